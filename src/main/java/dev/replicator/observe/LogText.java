package dev.replicator.observe;

/** Text from requests (event ids, types, reasons that quote them) made safe for one log line. */
public final class LogText {

    private LogText() {
    }

    /** Control characters, line breaks among them, become spaces: a request cannot split or forge a log line. */
    public static String oneLine(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder line = new StringBuilder(text.length());
        text.codePoints().forEach(c -> line.appendCodePoint(Character.isISOControl(c) || c == 0x2028 || c == 0x2029
                ? ' ' : c));
        return line.toString();
    }
}
