package io.ollamabalancer.sim;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The blobs one simulator "has on disk": for each stored sha256 digest its size and first bytes (enough to tell a
 * GGUF file by its magic), never the content. Filled by {@code POST /api/blobs/:digest} after the streamed body hashed
 * to the digest, read by {@code HEAD /api/blobs/:digest} and {@code /api/create}. Thread-safe: the simulator's event
 * loop writes, tests may read.
 */
final class BlobStore {
    /** Where Ollama's Linux service keeps blobs; the simulator only names it in error texts. */
    static final String BLOB_DIR = "/usr/share/ollama/.ollama/models/blobs/";
    /** Ollama's {@code GetBlobsPath} pattern: {@code sha256:} or {@code sha256-}, then 64 hex digits of any case. */
    private static final Pattern DIGEST = Pattern.compile("^sha256[:-][0-9a-fA-F]{64}$");
    private static final int HEAD_BYTES = 4;

    /** What is kept of one blob. */
    record Blob(long size, byte[] head) {
        boolean isGguf() {
            return Arrays.equals(head, new byte[] {'G', 'G', 'U', 'F'})
                    || Arrays.equals(head, new byte[] {'F', 'U', 'G', 'G'});
        }
    }

    /** Keyed by the file name Ollama would use ({@code sha256-<hex>}, hex as given). */
    private final Map<String, Blob> blobs = new ConcurrentHashMap<>();

    /** Whether {@code digest} has Ollama's digest format. */
    static boolean valid(String digest) {
        return digest != null && DIGEST.matcher(digest).matches();
    }

    /** The path Ollama would open for a valid {@code digest} (both separators name the same file). */
    static String path(String digest) {
        return BLOB_DIR + fileName(digest);
    }

    private static String fileName(String digest) {
        return digest.replace(':', '-');
    }

    /** The stored blob for a valid digest, or null. */
    Blob find(String digest) {
        return blobs.get(fileName(digest));
    }

    boolean has(String digest) {
        return valid(digest) && find(digest) != null;
    }

    void put(String digest, long size, byte[] head) {
        blobs.put(fileName(digest), new Blob(size, head.clone()));
    }

    static int headBytes() {
        return HEAD_BYTES;
    }
}
