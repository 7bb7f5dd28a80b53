package io.ollamabalancer.loadgen;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A request body with an optional {@code {{i}}} placeholder, replaced by the request's sequence number so that
 * prompts can differ (the simulator seeds each answer by a hash of the body). Immutable and thread-safe.
 */
public final class BodyTemplate {
    /** The placeholder replaced by the request number. */
    public static final String PLACEHOLDER = "{{i}}";
    /** A streaming generate asking for about 100 tokens. */
    public static final String DEFAULT = "{\"model\":\"llama3.2:1b\",\"prompt\":\"Tell me a story, number {{i}}.\","
            + "\"stream\":true,\"options\":{\"num_predict\":100}}";

    private final List<byte[]> parts;
    private final byte[] constant;

    private BodyTemplate(List<byte[]> parts) {
        this.parts = List.copyOf(parts);
        this.constant = parts.size() == 1 ? parts.get(0) : null;
    }

    public static BodyTemplate of(String text) {
        List<byte[]> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = text.indexOf(PLACEHOLDER, from)) >= 0) {
            parts.add(text.substring(from, at).getBytes(StandardCharsets.UTF_8));
            from = at + PLACEHOLDER.length();
        }
        parts.add(text.substring(from).getBytes(StandardCharsets.UTF_8));
        return new BodyTemplate(parts);
    }

    /** The body of request number {@code n}; a body without placeholder is shared, not copied. */
    public byte[] render(long n) {
        if (constant != null) {
            return constant;
        }
        byte[] number = Long.toString(n).getBytes(StandardCharsets.US_ASCII);
        int length = number.length * (parts.size() - 1);
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int pos = 0;
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                System.arraycopy(number, 0, out, pos, number.length);
                pos += number.length;
            }
            byte[] p = parts.get(i);
            System.arraycopy(p, 0, out, pos, p.length);
            pos += p.length;
        }
        return out;
    }
}
