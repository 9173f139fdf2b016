package dev.replicator.config;

import jakarta.inject.Singleton;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.jackson.ObjectMapperCustomizer;

/**
 * Event bodies are read with decimals kept exactly as written: a numeric(38,10) value or a double printed by Debezium
 * must reach PostgreSQL as the same digits, not through a Java double.
 */
@Singleton
public class ExactNumbers implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    }
}
