package dev.replicator.convert;

/** A value that cannot be a value of its target column. The message names the column, never the value. */
public class ConversionException extends RuntimeException {

    public ConversionException(String message) {
        super(message);
    }
}
