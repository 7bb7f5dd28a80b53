package io.ollamabalancer.request;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.Locale;

/**
 * Reads a chat {@code messages} array (native {@code /api/chat} or OpenAI {@code /v1/chat/completions}) in one
 * pass: counts messages and images, joins the text content, and hashes every message but the last for
 * prompt-cache affinity. Image payloads are skipped as tokens, never decoded into strings.
 * Not thread-safe; one per parse.
 *
 * <p>The prefix hash is FNV-1a over each message's lower-cased role and text, each length-prefixed so that
 * different splits of the same characters cannot collide, then finalised with a 64-bit mixer. Images and tool
 * calls are not part of it: two conversations differing only there share a hash, which costs at worst a less
 * useful cache-affinity hint.
 */
final class ChatMessages {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private final boolean openAi;
    private final TypeErrorSink errors;
    private final TextJoin text = new TextJoin();
    private final TextJoin parts = new TextJoin();
    private int count;
    private int images;
    private long running = FNV_OFFSET;
    private long beforeLast = FNV_OFFSET;

    /** Where the first Go-style type error goes; {@code null} messages mean "no error". */
    interface TypeErrorSink {
        void typeError(String message);
    }

    ChatMessages(boolean openAi, TypeErrorSink errors) {
        this.openAi = openAi;
        this.errors = errors;
    }

    int count() {
        return count;
    }

    int images() {
        return images;
    }

    String text() {
        return text.result();
    }

    /** Hash of every message but the last; 0 when there are fewer than two. */
    long prefixHash() {
        if (count < 2) {
            return 0;
        }
        long h = mix(beforeLast);
        return h == 0 ? 1 : h;
    }

    /** Reads the {@code messages} value; the parser is on its first token and is left on its last. */
    void read(JsonParser p, String struct) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            reset();
            return;
        }
        if (t != JsonToken.START_ARRAY) {
            errors.typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, "messages", "[]" + messageType()));
            p.skipChildren();
            return;
        }
        reset();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_OBJECT) {
                readMessage(p);
            } else {
                if (t != JsonToken.VALUE_NULL) {
                    errors.typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, "messages", messageType()));
                    p.skipChildren();
                }
                // Go appends a zero Message for null (and for a mismatched element).
                add("", "");
            }
        }
    }

    private String messageType() {
        return openAi ? "openai.Message" : "api.Message";
    }

    private void reset() {
        count = 0;
        images = 0;
        text.reset();
        running = FNV_OFFSET;
        beforeLast = FNV_OFFSET;
    }

    private void readMessage(JsonParser p) throws IOException {
        String role = "";
        String content = "";
        int messageImages = 0;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName().toLowerCase(Locale.ROOT);
            t = p.nextToken();
            switch (key) {
                case "role" -> role = readString(p, t, "role", role);
                case "content" -> content = openAi ? readOpenAiContent(p, t) : readString(p, t, "content", content);
                case "images" -> {
                    if (openAi) {
                        p.skipChildren();
                    } else {
                        messageImages = readImages(p, t);
                    }
                }
                default -> p.skipChildren();
            }
        }
        images += messageImages;
        add(role.toLowerCase(Locale.ROOT), content);
    }

    private String readString(JsonParser p, JsonToken t, String field, String previous) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t != JsonToken.VALUE_NULL) {
            errors.typeError(GoTypeErrors.field(GoTypeErrors.kind(t), "Message", "messages." + field, "string"));
            p.skipChildren();
        }
        return previous;
    }

    /** OpenAI content is a string or an array of parts; only {@code text} parts are text. */
    private String readOpenAiContent(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        if (t != JsonToken.START_ARRAY) {
            p.skipChildren();
            return "";
        }
        parts.reset();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.START_OBJECT) {
                readPart(p);
            } else {
                p.skipChildren();
            }
        }
        return parts.result();
    }

    private void readPart(JsonParser p) throws IOException {
        String type = null;
        String partText = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            t = p.nextToken();
            if (key.equals("type") && t == JsonToken.VALUE_STRING) {
                type = p.getText();
            } else if (key.equals("text") && t == JsonToken.VALUE_STRING) {
                partText = p.getText();
            } else {
                // image_url carries a base64 data URI: skipped unread.
                p.skipChildren();
            }
        }
        if ("text".equals(type)) {
            parts.add(partText);
        } else if ("image_url".equals(type)) {
            images++;
        }
    }

    private int readImages(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return 0;
        }
        if (t != JsonToken.START_ARRAY) {
            errors.typeError(GoTypeErrors.field(GoTypeErrors.kind(t), "Message", "messages.images",
                    "[]api.ImageData"));
            p.skipChildren();
            return 0;
        }
        return countImages(p, errors, "Message", "messages.images");
    }

    /** Counts the strings of an image array without reading them; the parser is on START_ARRAY. */
    static int countImages(JsonParser p, TypeErrorSink errors, String struct, String field) throws IOException {
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_STRING) {
                n++;
            } else if (t != JsonToken.VALUE_NULL) {
                errors.typeError(GoTypeErrors.field(GoTypeErrors.kind(t), struct, field, "api.ImageData"));
                p.skipChildren();
            }
        }
        return n;
    }

    private void add(String role, String content) {
        beforeLast = running;
        long h = running;
        h = fnv(h, role.length());
        h = fnv(h, role);
        h = fnv(h, content.length());
        running = fnv(h, content);
        count++;
        text.add(content);
    }

    private static long fnv(long h, String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            h = (h ^ s.charAt(i)) * FNV_PRIME;
        }
        return h;
    }

    private static long fnv(long h, int value) {
        for (int shift = 0; shift < 32; shift += 8) {
            h = (h ^ ((value >>> shift) & 0xFF)) * FNV_PRIME;
        }
        return h;
    }

    /** A 64-bit finaliser (the one from SplitMix64) so nearby prefixes spread over all bits. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
