package io.ollamabalancer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A blob of any size that is never held in memory: pseudo-random bytes (xorshift from a seed) behind the GGUF magic,
 * generated afresh by each {@link #open()}, so a test can upload gigabytes with a few kilobytes of heap. The digest is
 * computed by streaming it once. Immutable apart from the cached digest; thread-safe.
 */
public final class GeneratedBlob {
    private static final byte[] MAGIC = {'G', 'G', 'U', 'F'};

    private final long size;
    private final long seed;
    private volatile String digest;

    public GeneratedBlob(long size, long seed) {
        if (size < MAGIC.length) {
            throw new IllegalArgumentException("a blob needs at least the magic: " + size);
        }
        this.size = size;
        this.seed = seed;
    }

    public long size() {
        return size;
    }

    /** A new stream of the blob's bytes. */
    public InputStream open() {
        return new Stream(size, seed);
    }

    /** {@code sha256:<hex>} of the bytes, as Ollama names blobs. */
    public String digest() {
        String d = digest;
        if (d == null) {
            d = digest = "sha256:" + HexFormat.of().formatHex(hash());
        }
        return d;
    }

    /** The body with its length declared ({@code Content-Length}). */
    public HttpRequest.BodyPublisher withLength() {
        return HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(this::open), size);
    }

    /** The body with no declared length (sent chunked). */
    public HttpRequest.BodyPublisher chunked() {
        return HttpRequest.BodyPublishers.ofInputStream(this::open);
    }

    private byte[] hash() {
        try (InputStream in = open()) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            for (int n = in.read(buf); n > 0; n = in.read(buf)) {
                sha.update(buf, 0, n);
            }
            return sha.digest();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The bytes: the magic, then xorshift64 output, eight bytes per step. */
    private static final class Stream extends InputStream {
        private final long size;
        private long pos;
        private long state;
        private long word;

        Stream(long size, long seed) {
            this.size = size;
            this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= size) {
                return -1;
            }
            int n = (int) Math.min(len, size - pos);
            for (int i = 0; i < n; i++, pos++) {
                b[off + i] = pos < MAGIC.length ? MAGIC[(int) pos] : next();
            }
            return n;
        }

        private byte next() {
            int k = (int) ((pos - MAGIC.length) & 7);
            if (k == 0) {
                state ^= state << 13;
                state ^= state >>> 7;
                state ^= state << 17;
                word = state;
            }
            return (byte) (word >>> (k * 8));
        }
    }
}
