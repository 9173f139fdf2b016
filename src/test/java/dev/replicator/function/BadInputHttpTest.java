package dev.replicator.function;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;

import dev.replicator.testing.PostgresResource;
import dev.replicator.testing.TestDatabases;

/**
 * Hostile and malformed input in every shape replicator accepts (binary, structured, plain envelope, batch, Pub/Sub
 * message, plain requests to the source jobs): each gets the status a broker acts on correctly (400 never succeeds,
 * 422 the target refuses the data), an error that names the problem and never a row value, and leaves the target
 * as it was, PostgreSQL's catalogs and replicator's own tables included. {@link BadInputHttpIT} runs the same cases
 * against the packaged application.
 */
@QuarkusTest
@QuarkusTestResource(PostgresResource.class)
class BadInputHttpTest {

    /** Row values the cases carry where a value goes: they must never come back in an answer. */
    static final List<String> SECRETS = List.of("SECRET", "77777777777", "s3cr3t");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String NATIVE = "replicator.change.v1";
    static final String DEBEZIUM = "io.debezium.connector.postgresql.DataChangeEvent";

    DataSource target = PostgresResource.target();

    /** One request, the status it must get and what its error must name. */
    record Case(String name, Supplier<Response> request, int status, List<String> named) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Random text does not compress: as a key it is too large for any btree index. */
    static final String RANDOM_KEY = new java.util.Random(7).ints(12_000, 'a', 'z' + 1)
            .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();

    @org.junit.jupiter.api.BeforeAll
    static void tablesThePermanentErrorsNeed() {
        TestDatabases.execute(PostgresResource.target(), "CREATE TABLE IF NOT EXISTS wide_keys (id text PRIMARY KEY);"
                + " CREATE TABLE IF NOT EXISTS catalog_like (id int PRIMARY KEY, v text)"
                + " WITH (user_catalog_table = true);"
                + " CREATE TABLE IF NOT EXISTS bounded (id int PRIMARY KEY, code varchar(4), flag char(2), bits bit(3),"
                + " vbits varbit(3), tags varchar(3)[])");
    }

    @BeforeEach
    void knownTarget() {
        // DELETE rather than TRUNCATE: a few rows, and no new files to sync for each of some 260 cases
        TestDatabases.execute(target, "DO $$ BEGIN IF to_regclass('replicator.row_position') IS NOT NULL THEN"
                + " DELETE FROM replicator.row_position; DELETE FROM replicator.table_position;"
                + " DELETE FROM replicator.rejected; DELETE FROM replicator.backfill_progress; END IF; END $$;"
                + " DELETE FROM customers; DELETE FROM scratch; DELETE FROM guarded; DELETE FROM wide_keys;"
                + " DELETE FROM catalog_like; DELETE FROM bounded");
        TestDatabases.execute(target, "INSERT INTO scratch VALUES (1, 'seed'); INSERT INTO guarded VALUES (1, 5);"
                + " INSERT INTO customers (id, name) VALUES (1, 'Ada')");
        // a row position replicator keeps, which an event must not be able to reach
        ReplicationHttpTest.nativeChange("seed-2", j("{'table':'public.scratch','op':'upsert','position':100,"
                + "'after':{'k':2,'v':'two'}}")).then().statusCode(204);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void isRefusedNamingTheProblemAndChangesNothing(Case c) {
        String before = snapshot();
        Response response = c.request().get();
        String body = response.asString();
        assertEquals(c.status(), response.statusCode(), c.name() + ": " + body);
        assertEquals("application/json", response.contentType().replaceAll(";.*", ""), body);
        JsonNode answer;
        try {
            answer = JSON.readTree(body);
        } catch (Exception e) {
            throw new AssertionError(c.name() + ": the answer is not JSON: " + body, e);
        }
        assertEquals(c.status(), answer.path("status").asInt(), body);
        String error = answer.path("error").asText();
        assertFalse(error.isBlank(), body);
        for (String named : c.named()) {
            assertTrue(error.toLowerCase(Locale.ROOT).contains(named.toLowerCase(Locale.ROOT)),
                    c.name() + ": the error should name '" + named + "': " + error);
        }
        for (String secret : SECRETS) {
            assertFalse(body.contains(secret), c.name() + ": a row value came back: " + body);
        }
        assertFalse(body.contains(RANDOM_KEY.substring(0, 40)), c.name() + ": a row value came back: " + body);
        assertFalse(body.contains("Exception"), c.name() + ": " + body);
        assertEquals(before, snapshot(), c.name() + ": the target changed");
    }

    @Test
    void aCaseThatShouldChangeTheTargetDoesChangeTheSnapshot() {
        // the snapshot the cases compare sees the tables, replicator's positions and the catalog table they aim at
        String before = snapshot();
        ReplicationHttpTest.nativeChange("ok-1", j("{'table':'public.scratch','op':'truncate','position':200}"))
                .then().statusCode(204);
        assertNotEquals(before, snapshot());
    }

    @Test
    void otherMethodsThanPostAreAnswered405AndChangeNothing() {
        String before = snapshot();
        for (String path : List.of("/", "/change", "/debezium", "/backfill")) {
            given().header("ce-id", "m-1").header("ce-source", "/test").header("ce-specversion", "1.0")
                    .header("ce-type", "replicator.change.v1").contentType("application/json")
                    .body("{}").put(path)
                    .then().statusCode(405).header("Allow", "POST")
                    .body("error", containsString("method PUT not allowed on " + path));
            given().header("ce-id", "m-2").get(path).then().statusCode(405);
        }
        assertEquals(before, snapshot());
    }

    @Test
    void dataBase64IsDecoded() {
        String data = b64(j("{'table':'public.scratch','op':'upsert','position':300,'after':{'k':3,'v':'b64'}}"));
        String event = structuredEvent("b64-1", NATIVE, "'datacontenttype':'application/json','data_base64':'" + data
                + "'");
        // structured mode: Funqy reads no data_base64, replicator does, and answers as for any single event
        given().contentType("application/cloudevents+json").body(event).post("/").then().statusCode(204);
        String other = b64(j("{'table':'public.scratch','op':'upsert','position':301,'after':{'k':4,'v':'b64'}}"));
        given().contentType("application/json").body(structuredEvent("b64-2", NATIVE, "'data_base64':'" + other + "'"))
                .post("/").then().statusCode(204);
        assertEquals("1\tseed\n2\ttwo\n3\tb64\n4\tb64\n",
                TestDatabases.copy(target, "SELECT * FROM scratch ORDER BY k"));
    }

    @Test
    void valuesThatFitTheirColumnsLengthLandUnchanged() {
        // char(n) takes and cuts trailing spaces beyond n, as PostgreSQL's assignment does
        ReplicationHttpTest.nativeChange("fit-1", j("{'table':'public.bounded','op':'upsert','position':1,"
                + "'after':{'id':1,'code':'abcd','flag':'x    ','bits':'101','vbits':'1','tags':['abc','d']}}"))
                .then().statusCode(204);
        assertEquals("1\tabcd\tx \t101\t1\t{abc,d}\n", TestDatabases.copy(target, "SELECT * FROM bounded"));
    }

    @Test
    void plainDebeziumEnvelopesStayAcceptedAndAreAnsweredAsAnySingleEvent() {
        given().contentType("application/json").body(plainEnvelope("c", "public", "scratch", "500",
                "'after':{'k':5,'v':'plain'}")).post("/").then().statusCode(204);
        assertEquals("5\tplain\n", TestDatabases.copy(target, "SELECT * FROM scratch WHERE k = 5"));
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        bodies(cases);
        contentTypes(cases);
        structuredEvents(cases);
        binaryEvents(cases);
        nativeFields(cases);
        reservedTables(cases);
        debeziumEnvelopes(cases);
        refusedValues(cases);
        pubSubMessages(cases);
        sourceJobs(cases);
        return cases.stream();
    }

    // ---- bodies that are no events ----------------------------------------------------------------------------------

    static void bodies(List<Case> cases) {
        for (String path : List.of("/", "/change", "/debezium")) {
            cases.add(new Case("empty body to " + path, () -> post(path, "application/json", ""), 400,
                    List.of("empty")));
        }
        cases.add(new Case("blank body", () -> post("/", "application/json", "  \n "), 400, List.of("empty")));
        cases.add(new Case("not JSON", () -> post("/", "application/json", "SECRET is not json"), 400,
                List.of("malformed JSON")));
        cases.add(new Case("truncated JSON", () -> post("/", "application/json", "{\"table\":\"SECRET"), 400,
                List.of("malformed JSON")));
        cases.add(new Case("two JSON documents", () -> post("/", "application/json", "{} {}"), 400,
                List.of()));
        cases.add(new Case("array of numbers", () -> post("/", "application/json", "[1,2,3]"), 400,
                List.of("batch element 0", "not a JSON object")));
        cases.add(new Case("array of arrays", () -> post("/", "application/json", "[[]]"), 400,
                List.of("batch element 0")));
        cases.add(new Case("array with null", () -> post("/", "application/json", "[null]"), 400,
                List.of("batch element 0")));
        cases.add(new Case("empty array", () -> post("/", "application/json", "[]"), 400, List.of("batch is empty")));
        cases.add(new Case("JSON string", () -> post("/", "application/json", "\"SECRET\""), 400,
                List.of("JSON object or array")));
        cases.add(new Case("JSON null", () -> post("/", "application/json", "null"), 400,
                List.of("JSON object or array")));
        cases.add(new Case("JSON number", () -> post("/", "application/json", "77777777777"), 400,
                List.of("JSON object or array")));
        cases.add(new Case("JSON boolean", () -> post("/", "application/json", "true"), 400,
                List.of("JSON object or array")));
        cases.add(new Case("empty object", () -> post("/", "application/json", "{}"), 400, List.of()));
        cases.add(new Case("deeply nested arrays", () -> post("/", "application/json", "[".repeat(2000)
                + "]".repeat(2000)), 400, List.of()));
        cases.add(new Case("batch: second element a string", () -> post("/", "application/json", "["
                + structuredEvent("bt-1", NATIVE, "'data':" + upsertScratch(600, 6)) + ",\"SECRET\"]"), 400,
                List.of("batch element 1")));
    }

    // ---- content types ----------------------------------------------------------------------------------------------

    static void contentTypes(List<Case> cases) {
        String event = structuredEvent("ct-1", NATIVE, "'data':" + upsertScratch(700, 7));
        for (String type : List.of("text/plain", "application/xml", "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x", "application/octet-stream")) {
            cases.add(new Case("structured event as " + type, () -> post("/", type, event), 400,
                    List.of("Content-Type")));
        }
        cases.add(new Case("cloudevents+json without specversion", () -> post("/", "application/cloudevents+json",
                j("{'id':'ct-2','source':'/t','type':'replicator.change.v1','data':" + upsertScratch(700, 7) + "}")),
                400, List.of("ct-2", "specversion")));
        cases.add(new Case("cloudevents-batch+json of a plain envelope", () -> post("/",
                "application/cloudevents-batch+json", "[" + plainEnvelope("c", "public", "scratch", "701",
                        "'after':{'k':7,'v':'x'}") + "]"), 400, List.of("batch element 0", "specversion")));
        cases.add(new Case("cloudevents+json empty array", () -> post("/", "application/cloudevents+json", "[]"), 400,
                List.of("batch is empty")));
        cases.add(new Case("cloudevents+json number", () -> post("/", "application/cloudevents+json", "42"), 400,
                List.of("JSON object or array")));
        cases.add(new Case("cloudevents+json empty body", () -> post("/", "application/cloudevents+json", ""), 400,
                List.of("empty")));
    }

    // ---- structured CloudEvents -------------------------------------------------------------------------------------

    static void structuredEvents(List<Case> cases) {
        String data = "'data':" + upsertScratch(800, 8);
        for (String mode : List.of("application/cloudevents+json", "application/json")) {
            for (String attribute : List.of("id", "source", "type")) {
                cases.add(new Case("structured (" + mode + ") without " + attribute, () -> post("/", mode,
                        withoutAttribute(structuredEvent("se-1", NATIVE, data), attribute)), 400,
                        List.of("'" + attribute + "'")));
            }
            cases.add(new Case("structured (" + mode + ") specversion 0.1", () -> post("/", mode,
                    structuredEvent("se-2", NATIVE, data).replace("\"1.0\"", "\"0.1\"")), 400,
                    List.of("se-2", "specversion")));
            cases.add(new Case("structured (" + mode + ") id a number", () -> post("/", mode,
                    structuredEvent("se-3", NATIVE, data).replace("\"se-3\"", "7")), 400,
                    List.of("'id'", "string")));
        }
        cases.add(new Case("structured: empty id", () -> post("/", "application/cloudevents+json",
                structuredEvent("", NATIVE, data)), 400, List.of("'id'")));
        cases.add(new Case("structured: type an object", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-4", NATIVE, data).replace("\"replicator.change.v1\"", "{\"a\":1}")), 400,
                List.of("se-4", "'type'")));
        cases.add(new Case("structured: unknown type", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-5", "com.example.Nope", data)), 400, List.of("se-5", "com.example.Nope")));
        cases.add(new Case("structured: data_base64 not base64", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-6", NATIVE, "'data_base64':'%%%SECRET'")), 400, List.of("se-6", "base64")));
        cases.add(new Case("structured: data_base64 not JSON", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-7", NATIVE, "'data_base64':'" + b64("SECRET plain text") + "'")), 400,
                List.of("se-7", "data_base64", "malformed JSON")));
        cases.add(new Case("structured: data and data_base64", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-8", NATIVE, data + ",'data_base64':'" + b64("{}") + "'")), 400,
                List.of("se-8", "both")));
        cases.add(new Case("structured: data_base64 a number", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-9", NATIVE, "'data_base64':12")), 400, List.of("se-9", "data_base64")));
        cases.add(new Case("structured: data_base64 of text/plain", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-10", NATIVE, "'datacontenttype':'text/plain','data_base64':'"
                        + b64(upsertScratch(800, 8)) + "'")), 400, List.of("se-10", "JSON")));
        cases.add(new Case("structured: data_base64 of a bad change", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-11", NATIVE, "'data_base64':'" + b64(j("{'table':'public.scratch','op':'upsert',"
                        + "'position':801,'after':{'k':8,'nope':'SECRET'}}")) + "'")), 400,
                List.of("se-11", "nope")));
        for (String shape : List.of("\"SECRET\"", "[1]", "null", "77777777777")) {
            cases.add(new Case("structured: native data " + shape, () -> post("/", "application/cloudevents+json",
                    structuredEvent("se-12", NATIVE, "'data':" + shape)), 400, List.of("se-12", "JSON object")));
        }
        cases.add(new Case("structured: native event without data", () -> post("/", "application/cloudevents+json",
                structuredEvent("se-13", NATIVE, "'subject':'x'")), 400, List.of("se-13")));
        cases.add(new Case("batch: element without source", () -> post("/", "application/cloudevents-batch+json",
                "[" + withoutAttribute(structuredEvent("se-14", NATIVE, data), "source") + "]"), 400,
                List.of("se-14", "'source'")));
        cases.add(new Case("batch: element of an unknown type", () -> post("/", "application/json",
                "[" + structuredEvent("se-15", "com.example.Nope", data) + "]"), 400, List.of("com.example.Nope")));
        cases.add(new Case("batch: a source request among changes", () -> post("/", "application/json",
                "[" + structuredEvent("se-16", "replicator.backfill.v1", "'data':{}") + "]"), 400,
                List.of("replicator.backfill.v1")));
        cases.add(new Case("batch: one bad change rolls back the good one", () -> post("/", "application/json",
                "[" + structuredEvent("se-17", NATIVE, "'data':" + upsertScratch(802, 9)) + ","
                        + structuredEvent("se-18", NATIVE, "'data':" + j("{'table':'public.nope','op':'upsert',"
                                + "'position':803,'after':{'k':1}}")) + "]"), 400, List.of("se-18", "public.nope")));
    }

    // ---- binary-mode CloudEvents ------------------------------------------------------------------------------------

    static void binaryEvents(List<Case> cases) {
        String data = upsertScratch(900, 9);
        for (String missing : List.of("id", "source", "specversion", "type")) {
            cases.add(new Case("binary without ce-" + missing, () -> binary("be-1", NATIVE, "application/json", data,
                    missing), 400, List.of("ce-" + missing)));
        }
        cases.add(new Case("binary: blank ce-id", () -> binary(" ", NATIVE, "application/json", data, null), 400,
                List.of("ce-id")));
        cases.add(new Case("binary: ce-specversion 2.0", () -> given().contentType("application/json")
                .header("ce-id", "be-2").header("ce-source", "/t").header("ce-specversion", "2.0")
                .header("ce-type", NATIVE).body(data).post("/"), 400, List.of("be-2", "specversion")));
        cases.add(new Case("binary: text/plain data", () -> binary("be-3", NATIVE, "text/plain", data, null), 400,
                List.of("be-3", "application/json")));
        cases.add(new Case("binary: no Content-Type", () -> binary("be-4", NATIVE, null, data, null), 400,
                List.of("be-4", "application/json")));
        cases.add(new Case("binary: unknown type", () -> binary("be-5", "com.example.Nope", "application/json", data,
                null), 400, List.of("be-5", "com.example.Nope")));
        cases.add(new Case("binary: malformed JSON", () -> binary("be-6", NATIVE, "application/json", "{SECRET", null),
                400, List.of("be-6", "malformed JSON")));
        cases.add(new Case("binary: malformed JSON over 64 KiB", () -> binary("be-7", NATIVE, "application/json",
                "{\"v\":\"" + "x".repeat(70_000), null), 400, List.of("be-7", "malformed JSON")));
        for (String shape : List.of("\"SECRET\"", "[1,2]", "77777777777", "null", "true")) {
            cases.add(new Case("binary: native data " + shape, () -> binary("be-8", NATIVE, "application/json", shape,
                    null), 400, List.of("be-8", "JSON object")));
        }
        cases.add(new Case("binary: native event with an empty body", () -> binary("be-9", NATIVE, "application/json",
                "", null), 400, List.of("be-9")));
        cases.add(new Case("binary: Debezium data a string", () -> binary("be-10", DEBEZIUM, "application/json",
                "\"SECRET\"", null), 400, List.of("be-10", "JSON object")));
        cases.add(new Case("binary: Debezium data an array", () -> binary("be-11", DEBEZIUM, "application/json",
                "[{\"after\":{\"k\":1}}]", null), 400, List.of("be-11")));
        cases.add(new Case("binary: new-key header not base64", () -> given().contentType("application/json")
                .header("ce-id", "be-12").header("ce-source", "/t").header("ce-specversion", "1.0")
                .header("ce-type", DEBEZIUM).header("ce-iodebeziumschema", "public")
                .header("ce-iodebeziumtable", "scratch").header("ce-iodebeziumlsn", "901")
                .header("X-DEBEZIUM-__DEBEZIUM.NEWKEY", "%%%").body(j("{'op':'d','before':{'k':1}}")).post("/"),
                400, List.of("be-12", "new-key")));
    }

    // ---- fields of the native format --------------------------------------------------------------------------------

    static void nativeFields(List<Case> cases) {
        String after = "'after':{'k':1,'v':'SECRET'}";
        // table
        for (String table : List.of("", ".", "public.", ".scratch", " ")) {
            cases.add(nativeCase("table '" + table + "'", "{'table':'" + table + "','op':'upsert','position':1," + after
                    + "}", "table"));
        }
        for (String table : List.of("5", "null", "['public.scratch']", "{'schema':'public'}", "true")) {
            cases.add(nativeCase("table " + table, "{'table':" + table + ",'op':'upsert','position':1," + after + "}",
                    "table"));
        }
        cases.add(nativeCase("no table", "{'op':'upsert','position':1," + after + "}", "table"));
        for (String table : List.of("public.nope", "nope", "public.scratch.extra", "public.a\\\"b", "\\\"public.scratch\\\"",
                "public.SCRATCH", "públic.scrätch", "public.scratch;DROP TABLE guarded", "public.scratch\\ntwo",
                "public.\\ud83d\\ude00")) {
            cases.add(nativeCase("table " + table, "{'table':'" + table + "','op':'upsert','position':1," + after + "}",
                    "does not exist"));
        }
        cases.add(nativeCase("table with a zero byte", "{'table':'public.scr\\u0000atch','op':'upsert','position':1,"
                + after + "}", "zero byte"));
        cases.add(nativeCase("table with a lone surrogate", "{'table':'public.scr\\ud800atch','op':'upsert',"
                + "'position':1," + after + "}", "not valid Unicode"));
        cases.add(nativeCase("table name of 64 bytes", "{'table':'public." + "scratch".repeat(9) + "x','op':'upsert',"
                + "'position':1," + after + "}", "longer than 63 bytes"));
        // op
        for (String op : List.of("'merge'", "5", "null", "{}", "''", "['upsert']", "'UPSERT'")) {
            cases.add(nativeCase("op " + op, "{'table':'public.scratch','op':" + op + ",'position':1," + after + "}",
                    "op"));
        }
        cases.add(nativeCase("no op", "{'table':'public.scratch','position':1," + after + "}", "op"));
        // position
        for (String position : List.of("'abc'", "-1", "1.5", "1e400", "99999999999999999999", "[1]", "[1,2,3]",
                "['1','x']", "{}", "true", "[null,1]", "'-5'", "' 7'", "[-1,0]")) {
            cases.add(nativeCase("position " + position, "{'table':'public.scratch','op':'upsert','position':"
                    + position + "," + after + "}", "position"));
        }
        cases.add(nativeCase("no position", "{'table':'public.scratch','op':'upsert'," + after + "}", "position"));
        // row images
        cases.add(nativeCase("upsert without after", "{'table':'public.scratch','op':'upsert','position':1}",
                "after"));
        for (String image : List.of("[1,2]", "'SECRET'", "77777777777", "true")) {
            cases.add(nativeCase("after " + image, "{'table':'public.scratch','op':'upsert','position':1,'after':"
                    + image + "}", "after"));
        }
        cases.add(nativeCase("after {}", "{'table':'public.scratch','op':'upsert','position':1,'after':{}}",
                "key column k"));
        cases.add(nativeCase("after without the key", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'v':'SECRET'}}", "key column k"));
        cases.add(nativeCase("after with a null key", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':null,'v':'SECRET'}}", "key column k"));
        for (String column : List.of("bogus", "v\\\"x", "K", "v; DROP TABLE scratch", "\\u0000", "\\ud83d\\ude00",
                "x".repeat(200))) {
            cases.add(nativeCase("unknown column " + column.substring(0, Math.min(column.length(), 20)),
                    "{'table':'public.scratch','op':'upsert','position':1,'after':{'k':1,'" + column
                            + "':'SECRET'}}", "does not exist"));
        }
        // Jackson refuses a broken surrogate pair in a field name
        cases.add(nativeCase("column with a lone surrogate", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':1,'\\ud800':'SECRET'}}", "malformed JSON"));
        cases.add(nativeCase("delete without key", "{'table':'public.scratch','op':'delete','position':1}", "key"));
        cases.add(nativeCase("delete with a key array", "{'table':'public.scratch','op':'delete','position':1,"
                + "'key':[1]}", "key"));
        cases.add(nativeCase("delete with a key of another column", "{'table':'public.scratch','op':'delete',"
                + "'position':1,'key':{'v':'SECRET'}}", "key column k"));
        cases.add(nativeCase("delete with newKey a number", "{'table':'public.scratch','op':'delete','position':1,"
                + "'key':{'k':1},'newKey':5}", "newKey"));
        cases.add(nativeCase("key an object", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':{'a':'SECRET'},'v':'x'}}", "column k"));
        cases.add(nativeCase("key an array", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':['SECRET'],'v':'x'}}", "column k"));
    }

    // ---- tables replicator never writes ----------------------------------------------------------------------------

    static void reservedTables(List<Case> cases) {
        String far = "'position':[9000000000000000000,0]";
        record Target(String table, String op, String rest) {
        }
        for (Target t : List.of(
                new Target("pg_catalog.pg_description", "delete", "'key':{'objoid':1,'classoid':1,'objsubid':0}"),
                new Target("pg_catalog.pg_description", "truncate", ""),
                new Target("pg_catalog.pg_description", "upsert", "'after':{'objoid':1,'classoid':1,'objsubid':0,"
                        + "'description':'SECRET'}"),
                new Target("PG_CATALOG.pg_description", "truncate", ""),
                new Target("Pg_Catalog.pg_class", "truncate", ""),
                new Target("information_schema.sql_features", "truncate", ""),
                new Target("INFORMATION_SCHEMA.tables", "truncate", ""),
                new Target("pg_toast.pg_toast_2600", "truncate", ""),
                new Target("pg_temp.scratch", "truncate", ""),
                new Target("pg_temp_3.scratch", "truncate", ""),
                new Target("pg_anything.x", "truncate", ""),
                new Target("replicator.row_position", "truncate", ""),
                new Target("replicator.row_position", "upsert", "'after':{'table_name':'public.scratch',"
                        + "'row_key':'2','commit_pos':9000000000000000000}"),
                new Target("replicator.row_position", "delete", "'key':{'table_name':'public.scratch','row_key':'2'}"),
                new Target("replicator.table_position", "truncate", ""),
                new Target("replicator.rejected", "truncate", ""),
                new Target("replicator.backfill_progress", "truncate", ""),
                new Target("Replicator.row_position", "truncate", ""),
                new Target("REPLICATOR.nothing_yet", "upsert", "'after':{'id':1}"))) {
            String data = "{'table':'" + t.table() + "','op':'" + t.op() + "'," + far
                    + (t.rest().isEmpty() ? "" : "," + t.rest()) + "}";
            cases.add(nativeCase(t.op() + " of " + t.table(), data, "never replicated"));
        }
        cases.add(new Case("Debezium truncate of replicator.row_position", () -> post("/", "application/json",
                plainEnvelope("t", "replicator", "row_position", "9000000000000000000", "'after':null")), 400,
                List.of("replicator.row_position", "never replicated")));
        cases.add(new Case("Debezium delete of pg_catalog.pg_description", () -> post("/", "application/json",
                plainEnvelope("d", "pg_catalog", "pg_description", "9000000000000000000",
                        "'before':{'objoid':1,'classoid':1,'objsubid':0}")), 400,
                List.of("pg_catalog.pg_description", "never replicated")));
        cases.add(new Case("structured Debezium truncate of pg_catalog.pg_description", () -> post("/",
                "application/cloudevents+json", structuredEvent("rs-1", DEBEZIUM, "'iodebeziumop':'t',"
                        + "'iodebeziumschema':'pg_catalog','iodebeziumtable':'pg_description','iodebeziumlsn':'90',"
                        + "'data':{'before':null,'after':null}")), 400, List.of("rs-1", "never replicated")));
        cases.add(new Case("batch with a change of replicator.row_position", () -> post("/", "application/json", "["
                + structuredEvent("rs-2", NATIVE, "'data':" + upsertScratch(1000, 10)) + ","
                + structuredEvent("rs-3", NATIVE, "'data':" + j("{'table':'replicator.row_position','op':'truncate',"
                        + "'position':1001}")) + "]"), 400, List.of("rs-3", "never replicated")));
    }

    // ---- plain Debezium envelopes -----------------------------------------------------------------------------------

    static void debeziumEnvelopes(List<Case> cases) {
        cases.add(new Case("envelope: payload a string", () -> post("/", "application/json", "{\"payload\":\"SECRET\"}"),
                400, List.of("payload", "JSON object")));
        cases.add(new Case("envelope: payload an array", () -> post("/", "application/json", "{\"payload\":[1]}"), 400,
                List.of("payload")));
        cases.add(new Case("envelope: unknown op", () -> post("/", "application/json",
                plainEnvelope("z", "public", "scratch", "1", "'after':{'k':1}")), 400, List.of("op")));
        cases.add(new Case("envelope: op a number", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "1", "'after':{'k':1}").replace("\"op\":\"c\"", "\"op\":5")),
                400, List.of("op")));
        cases.add(new Case("envelope: create without after", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "1", "'after':null")), 400, List.of("after")));
        cases.add(new Case("envelope: after an array", () -> post("/", "application/json",
                plainEnvelope("u", "public", "scratch", "1", "'after':[1,2]")), 400, List.of("after")));
        cases.add(new Case("envelope: delete without before", () -> post("/", "application/json",
                plainEnvelope("d", "public", "scratch", "1", "'after':null")), 400, List.of("before")));
        cases.add(new Case("envelope: no source table", () -> post("/", "application/json",
                j("{'payload':{'op':'c','after':{'k':1},'source':{'schema':'public','lsn':1}}}")), 400,
                List.of("table")));
        cases.add(new Case("envelope: blank schema", () -> post("/", "application/json",
                plainEnvelope("c", "", "scratch", "1", "'after':{'k':1}")), 400, List.of("schema")));
        cases.add(new Case("envelope: blank table", () -> post("/", "application/json",
                plainEnvelope("c", "public", " ", "1", "'after':{'k':1}")), 400, List.of("table")));
        cases.add(new Case("envelope: LSN not a number", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "12ab", "'after':{'k':1}")), 400, List.of("LSN")));
        cases.add(new Case("envelope: LSN too large", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "99999999999999999999", "'after':{'k':1}")), 400,
                List.of("LSN")));
        cases.add(new Case("envelope: sequence not JSON", () -> post("/", "application/json",
                j("{'payload':{'op':'c','after':{'k':1},'source':{'schema':'public','table':'scratch','lsn':1,"
                        + "'sequence':'[SECRET'}}}")), 400, List.of("sequence")));
        cases.add(new Case("envelope: unknown column", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "1", "'after':{'k':1,'nope':'SECRET'}")), 400,
                List.of("nope")));
        cases.add(new Case("envelope: missing key", () -> post("/", "application/json",
                plainEnvelope("c", "public", "scratch", "1", "'after':{'v':'SECRET'}")), 400, List.of("key column k")));
        cases.add(new Case("envelope: schema fields of the wrong shape", () -> post("/", "application/json",
                j("{'schema':{'fields':7},'payload':{'op':'c','after':{'k':1},'source':{'schema':'public',"
                        + "'table':'nope','lsn':1}}}")), 400, List.of("nope")));
    }

    // ---- values the target refuses: 422, the value never in the answer ---------------------------------------------

    static void refusedValues(List<Case> cases) {
        // an explicit cast to varchar(n) or char(n) would cut these silently: the column's length decides instead
        cases.add(nativeCase422("text longer than varchar(4)", "{'table':'public.bounded','op':'upsert','position':1,"
                + "'after':{'id':2,'code':'SECRET'}}", "column \"code\"", "character varying(4)"));
        cases.add(nativeCase422("text longer than char(2)", "{'table':'public.bounded','op':'upsert','position':1,"
                + "'after':{'id':2,'flag':'s3cr3t'}}", "column \"flag\"", "character(2)"));
        cases.add(nativeCase422("bit string shorter than bit(3)", "{'table':'public.bounded','op':'upsert',"
                + "'position':1,'after':{'id':2,'bits':'10'}}", "column \"bits\"", "bit(3)"));
        cases.add(nativeCase422("bit string longer than bit varying(3)", "{'table':'public.bounded','op':'upsert',"
                + "'position':1,'after':{'id':2,'vbits':'1010'}}", "column \"vbits\"", "bit varying(3)"));
        cases.add(nativeCase422("array element longer than varchar(3)", "{'table':'public.bounded','op':'upsert',"
                + "'position':1,'after':{'id':2,'tags':['ok','SECRET']}}", "bounded", "character varying(3)"));
        cases.add(nativeCase422("integer out of range", "{'table':'public.guarded','op':'upsert','position':1,"
                + "'after':{'id':2,'qty':77777777777}}", "qty", "integer"));
        cases.add(nativeCase422("integer out of range as text", "{'table':'public.guarded','op':'upsert',"
                + "'position':1,'after':{'id':2,'qty':'77777777777'}}", "out of range"));
        cases.add(nativeCase422("not an integer", "{'table':'public.guarded','op':'upsert','position':1,"
                + "'after':{'id':2,'qty':'SECRET'}}", "integer"));
        cases.add(nativeCase422("key not an integer", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':'s3cr3t','v':'x'}}", "integer"));
        cases.add(nativeCase422("check constraint", "{'table':'public.guarded','op':'upsert','position':1,"
                + "'after':{'id':2,'qty':-77777777}}", "check constraint"));
        cases.add(nativeCase422("not null", "{'table':'public.guarded','op':'upsert','position':1,"
                + "'after':{'id':2,'qty':null}}", "qty"));
        cases.add(nativeCase422("text with a lone surrogate", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':3,'v':'SECRET\\ud800'}}", "column \"v\"", "not valid Unicode"));
        cases.add(nativeCase422("text with a lone low surrogate", "{'table':'public.scratch','op':'upsert',"
                + "'position':1,'after':{'k':3,'v':'\\udc00SECRET'}}", "not valid Unicode"));
        cases.add(nativeCase422("key with a lone surrogate", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'s3cr3t\\ud83d'}}", "name", "not valid Unicode"));
        cases.add(nativeCase422("text with a zero byte", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':3,'v':'SECRET\\u0000'}}"));
        cases.add(nativeCase422("enum value unknown", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'x','feeling':'SECRET'}}", "mood"));
        cases.add(nativeCase422("uuid malformed", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'x','ext_id':'SECRET'}}", "uuid"));
        cases.add(nativeCase422("date malformed", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'x','born':'SECRET'}}", "date"));
        cases.add(nativeCase422("numeric overflow", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'x','balance':'77777777777.5'}}", "numeric"));
        // written out, this number has a billion digits: refused before anything spells it out
        cases.add(nativeCase422("number with a huge exponent", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':3,'v':1e999999999}}", "column \"v\"", "beyond the range"));
        cases.add(nativeCase422("number with a huge negative exponent in an array", "{'table':'public.customers',"
                + "'op':'upsert','position':1,'after':{'id':3,'name':'x','lucky':[1,2e-999999999]}}", "lucky"));
        cases.add(nativeCase422("key with a huge exponent", "{'table':'public.scratch','op':'upsert','position':1,"
                + "'after':{'k':1e999999999,'v':'x'}}", "column \"k\"", "beyond the range"));
        // permanent database errors that are no data errors: never 503, which would be redelivered forever
        cases.add(nativeCase422("key too large for its index (54000)", "{'table':'public.wide_keys','op':'upsert',"
                + "'position':1,'after':{'id':'" + RANDOM_KEY + "'}}", "wide_keys", "54000"));
        cases.add(nativeCase422("ON CONFLICT on a catalog table (0A000)", "{'table':'public.catalog_like',"
                + "'op':'upsert','position':1,'after':{'id':1,'v':'SECRET'}}", "catalog_like", "feature not supported",
                "0A000"));
        cases.add(nativeCase422("array element malformed", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':3,'name':'x','lucky':['SECRET']}}", "integer"));
        cases.add(nativeCase422("bigint key out of range", "{'table':'public.customers','op':'upsert','position':1,"
                + "'after':{'id':'777777777777777777777777','name':'x'}}", "bigint"));
    }

    // ---- Pub/Sub messages -------------------------------------------------------------------------------------------

    static void pubSubMessages(List<Case> cases) {
        cases.add(new Case("pubsub: no message", () -> pubSub("ps-1", "{\"subscription\":\"s\"}", true), 400,
                List.of("ps-1", "message")));
        cases.add(new Case("pubsub: message a string", () -> pubSub("ps-2", "{\"message\":\"SECRET\"}", true), 400,
                List.of("ps-2", "message")));
        cases.add(new Case("pubsub: data not base64", () -> pubSub("ps-3", "{\"message\":{\"data\":\"%%SECRET\"}}",
                true), 400, List.of("ps-3", "base64")));
        cases.add(new Case("pubsub: data a number", () -> pubSub("ps-4", "{\"message\":{\"data\":77777777777}}", true),
                400, List.of("ps-4", "data")));
        cases.add(new Case("pubsub: data not JSON", () -> pubSub("ps-5", "{\"message\":{\"data\":\""
                + b64("SECRET") + "\"}}", true), 400, List.of("ps-5", "malformed JSON")));
        cases.add(new Case("pubsub: body not JSON", () -> pubSub("ps-6", "SECRET", true), 400,
                List.of("ps-6", "malformed JSON")));
        cases.add(new Case("pubsub: empty body", () -> pubSub("ps-7", "", true), 400, List.of("ps-7", "empty")));
        cases.add(new Case("pubsub: event without source inside", () -> pubSub("ps-8", "{\"message\":{\"data\":\""
                + b64(withoutAttribute(structuredEvent("in-1", NATIVE, "'data':" + upsertScratch(1100, 11)),
                        "source")) + "\"}}", true), 400, List.of("in-1", "'source'")));
        cases.add(new Case("pubsub: change of pg_catalog inside", () -> pubSub("ps-9", "{\"message\":{\"data\":\""
                + b64(structuredEvent("in-2", NATIVE, "'data':" + j("{'table':'pg_catalog.pg_description',"
                        + "'op':'truncate','position':1}"))) + "\"}}", true), 400, List.of("in-2", "never replicated")));
        cases.add(new Case("pubsub: without ce-source", () -> pubSub("ps-10", "{\"message\":{\"data\":\""
                + b64(upsertScratch(1, 1)) + "\"}}", false), 400, List.of("ps-10", "ce-source")));
        cases.add(new Case("pubsub: text/plain", () -> given().contentType("text/plain").header("ce-id", "ps-11")
                .header("ce-specversion", "1.0").header("ce-source", "/t")
                .header("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
                .body("{\"message\":{\"data\":\"" + b64("{}") + "\"}}").post("/"), 400, List.of("ps-11",
                        "application/json")));
        cases.add(new Case("pubsub: data an empty array", () -> pubSub("ps-12", "{\"message\":{\"data\":\""
                + b64("[]") + "\"}}", true), 400, List.of("batch is empty")));
    }

    // ---- the source jobs --------------------------------------------------------------------------------------------

    static void sourceJobs(List<Case> cases) {
        for (String table : List.of("pg_catalog.pg_description", "replicator.row_position",
                "information_schema.tables", "pg_toast.pg_toast_2600", "REPLICATOR.backfill_progress")) {
            cases.add(new Case("backfill of " + table, () -> post("/backfill", "application/json",
                    j("{'tables':['" + table + "']}")), 400, List.of(table, "never replicated")));
            cases.add(new Case("verify with repair of " + table, () -> post("/verify", "application/json",
                    j("{'tables':['" + table + "'],'repair':true}")), 400, List.of(table, "never replicated")));
            cases.add(new Case("rowref of " + table, () -> post("/rowref", "application/json",
                    j("{'table':'" + table + "','key':{'objoid':1}}")), 400, List.of(table, "never replicated")));
        }
        cases.add(new Case("binary backfill of pg_catalog", () -> binary("sj-1", "replicator.backfill.v1",
                "application/json", j("{'tables':['pg_catalog.pg_class'],'restart':true}"), null), 400,
                List.of("sj-1", "never replicated")));
        cases.add(new Case("binary verify with repair of replicator's table", () -> binary("sj-2",
                "replicator.verify.v1", "application/json", j("{'tables':['replicator.row_position'],"
                        + "'repair':true}"), null), 400, List.of("sj-2", "never replicated")));
        cases.add(new Case("binary rowref of replicator's table", () -> binary("sj-3", "replicator.rowref.v1",
                "application/json", j("{'table':'replicator.row_position','key':{'table_name':'x','row_key':'1'}}"),
                null), 400, List.of("sj-3", "never replicated")));
        cases.add(new Case("structured rowref of pg_catalog", () -> post("/", "application/cloudevents+json",
                structuredEvent("sj-4", "replicator.rowref.v1", "'data':" + j("{'table':'pg_catalog.pg_description',"
                        + "'key':{'objoid':1}}"))), 400, List.of("sj-4", "never replicated")));
        cases.add(new Case("structured verify of pg_catalog as application/json", () -> post("/", "application/json",
                structuredEvent("sj-5", "replicator.verify.v1", "'data':" + j("{'tables':['pg_catalog.pg_class']}"))),
                400, List.of("sj-5", "never replicated")));
        cases.add(new Case("ping source verify of pg_catalog", () -> binary("sj-6", "dev.knative.sources.ping",
                "application/json", j("{'tables':['pg_catalog.pg_class'],'repair':true}"), null), 400,
                List.of("sj-6", "never replicated")));
        cases.add(new Case("backfill: body an array", () -> post("/backfill", "application/json", "[1]"), 400,
                List.of("JSON object")));
        cases.add(new Case("backfill: body not JSON", () -> post("/backfill", "application/json", "SECRET"), 400,
                List.of("malformed JSON")));
        cases.add(new Case("backfill: empty body", () -> post("/backfill", "application/json", ""), 400,
                List.of("empty")));
        cases.add(new Case("backfill: text/plain", () -> post("/backfill", "text/plain", "{}"), 400,
                List.of("Content-Type")));
        for (String tables : List.of("7", "'some'", "[]", "[7]", "['']", "['a.']", "['.b']", "['a.b.c']",
                "['public.nope']", "['public.scr\\u0000atch']", "['public." + "x".repeat(70) + "']")) {
            cases.add(new Case("backfill: tables " + tables.substring(0, Math.min(tables.length(), 24)),
                    () -> post("/backfill", "application/json", j("{'tables':" + tables + "}")), 400,
                    List.of("table")));
        }
        cases.add(new Case("backfill: chunkSize 0", () -> post("/backfill", "application/json",
                j("{'tables':['public.scratch'],'chunkSize':0}")), 400, List.of("chunkSize")));
        cases.add(new Case("backfill: chunkSize huge", () -> post("/backfill", "application/json",
                j("{'tables':['public.scratch'],'chunkSize':1e400}")), 400, List.of("chunkSize")));
        cases.add(new Case("backfill: restart a string", () -> post("/backfill", "application/json",
                j("{'tables':['public.scratch'],'restart':'yes'}")), 400, List.of("restart")));
        cases.add(new Case("verify: sampleKeys a string", () -> post("/verify", "application/json",
                j("{'tables':['public.scratch'],'sampleKeys':'many'}")), 400, List.of("sampleKeys")));
        cases.add(new Case("verify: resume of the wrong shape", () -> post("/verify", "application/json",
                j("{'tables':['public.scratch'],'resume':{'table':5}}")), 400, List.of("resume")));
        cases.add(new Case("verify: resume.after with an object", () -> post("/verify", "application/json",
                j("{'tables':['public.scratch'],'resume':{'table':'public.scratch','after':[{}]}}")), 400,
                List.of("resume.after")));
        cases.add(new Case("rowref: table a number", () -> post("/rowref", "application/json",
                j("{'table':5,'key':{'k':1}}")), 400, List.of("table")));
        cases.add(new Case("rowref: no key", () -> post("/rowref", "application/json",
                j("{'table':'public.scratch'}")), 400, List.of("key")));
        cases.add(new Case("rowref: keys a string", () -> post("/rowref", "application/json",
                j("{'table':'public.scratch','keys':'SECRET'}")), 400, List.of("keys")));
        cases.add(new Case("rowref: key of an unknown column", () -> post("/rowref", "application/json",
                j("{'table':'public.scratch','key':{'nope':'SECRET'}}")), 400, List.of("nope")));
        cases.add(new Case("rowref: table 'a.'", () -> post("/rowref", "application/json",
                j("{'table':'a.','key':{'k':1}}")), 400, List.of("table")));
        cases.add(new Case("rowref: key not an integer", () -> post("/rowref", "application/json",
                j("{'table':'public.scratch','key':{'k':'SECRET'}}")), 422, List.of("integer")));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    static Case nativeCase(String name, String data, String... named) {
        List<String> expected = new ArrayList<>(List.of("nat-1"));
        expected.addAll(List.of(named));
        return new Case("native: " + name, () -> binary("nat-1", NATIVE, "application/json", j(data), null), 400,
                expected);
    }

    static Case nativeCase422(String name, String data, String... named) {
        List<String> expected = new ArrayList<>(List.of("val-1"));
        expected.addAll(List.of(named));
        return new Case("refused value: " + name, () -> binary("val-1", NATIVE, "application/json", j(data), null), 422,
                expected);
    }

    /** Single quotes for double quotes, so JSON reads well in Java. */
    static String j(String json) {
        return json.replace('\'', '"');
    }

    static String b64(String text) {
        return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    static String upsertScratch(long position, int k) {
        return j("{'table':'public.scratch','op':'upsert','position':" + position + ",'after':{'k':" + k
                + ",'v':'SECRET'}}");
    }

    static String structuredEvent(String id, String type, String rest) {
        return j("{'specversion':'1.0','id':'" + id + "','source':'/test','type':'" + type + "'," + rest + "}");
    }

    static String withoutAttribute(String event, String attribute) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode node = (com.fasterxml.jackson.databind.node.ObjectNode) JSON
                    .readTree(event);
            node.remove(attribute);
            return node.toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String plainEnvelope(String op, String schema, String table, String lsn, String images) {
        return j("{'payload':{'op':'" + op + "'," + images + ",'source':{'schema':'" + schema + "','table':'" + table
                + "','lsn':'" + lsn + "'}}}");
    }

    static Response post(String path, String contentType, String body) {
        RequestSpecification spec = given();
        if (contentType != null) {
            spec = spec.contentType(contentType);
        }
        if (contentType != null && contentType.startsWith("application/x-www-form-urlencoded")) {
            return spec.body(body).post(path); // rest-assured encodes form bodies only from text
        }
        return spec.body(body.getBytes(StandardCharsets.UTF_8)).post(path);
    }

    /** A binary-mode event; {@code leaveOut} names one required attribute not to send. */
    static Response binary(String id, String type, String contentType, String body, String leaveOut) {
        RequestSpecification spec = given().noContentType();
        if (contentType != null) {
            spec = spec.contentType(contentType);
        }
        if (!"id".equals(leaveOut)) {
            spec = spec.header("ce-id", id);
        }
        if (!"source".equals(leaveOut)) {
            spec = spec.header("ce-source", "/test");
        }
        if (!"specversion".equals(leaveOut)) {
            spec = spec.header("ce-specversion", "1.0");
        }
        if (!"type".equals(leaveOut)) {
            spec = spec.header("ce-type", type);
        }
        return spec.body(body.getBytes(StandardCharsets.UTF_8)).post("/");
    }

    static Response pubSub(String messageId, String envelope, boolean withSource) {
        RequestSpecification spec = given().contentType("application/json").header("ce-id", messageId)
                .header("ce-specversion", "1.0").header("ce-type", "google.cloud.pubsub.topic.v1.messagePublished");
        if (withSource) {
            spec = spec.header("ce-source", "//pubsub.googleapis.com/projects/demo/topics/replicator-changes");
        }
        return spec.body(envelope.getBytes(StandardCharsets.UTF_8)).post("/");
    }

    /** The target as the cases must leave it: the tables they aim at, replicator's positions, a catalog table. */
    String snapshot() {
        StringWriter out = new StringWriter();
        try (Connection connection = target.getConnection()) {
            CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
            for (String select : List.of("SELECT * FROM scratch ORDER BY k", "SELECT * FROM guarded ORDER BY id",
                    "SELECT id, name, email, feeling FROM customers ORDER BY id",
                    "SELECT * FROM replicator.row_position ORDER BY 1, 2",
                    "SELECT * FROM replicator.table_position ORDER BY 1",
                    "SELECT count(*) FROM replicator.rejected", "SELECT count(*) FROM replicator.backfill_progress",
                    "SELECT count(*), sum(length(description)) FROM pg_catalog.pg_description")) {
                copy.copyOut("COPY (" + select + ") TO STDOUT", out);
                out.write("|");
            }
        } catch (SQLException | IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }
}
