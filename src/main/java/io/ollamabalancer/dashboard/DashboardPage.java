package io.ollamabalancer.dashboard;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

/**
 * The dashboard page ({@code GET /balancer/ui}): one HTML file with its CSS and script inline, read from the jar
 * once at start-up and kept both plain and gzip-compressed, with a strong ETag of its content. Immutable and
 * thread-safe after {@link #load()}; {@link #answer} only picks among the prepared byte arrays, so serving the
 * page costs an event loop no compression and no I/O. The arrays are shared: callers wrap them, never change them.
 */
public final class DashboardPage {
    static final String RESOURCE = "/io/ollamabalancer/dashboard/dashboard.html";
    /** The page changes only with the jar: a browser revalidates each time and gets a 304 while it is the same. */
    public static final String CACHE_CONTROL = "no-cache";
    public static final String CONTENT_TYPE = "text/html; charset=utf-8";

    private final byte[] plain;
    private final byte[] gzipped;
    private final String etag;

    /**
     * What to send for one request.
     *
     * @param status 200, or 304 when the client holds this version
     * @param body   the bytes to send (empty for a 304); shared, never to be changed
     * @param gzip   whether {@code body} is gzip-encoded ({@code Content-Encoding: gzip})
     * @param etag   the page's ETag, quoted
     */
    public record Answer(int status, byte[] body, boolean gzip, String etag) {
    }

    DashboardPage(byte[] plain) {
        this.plain = plain.clone();
        this.gzipped = gzip(plain);
        this.etag = "\"" + HexFormat.of().formatHex(sha256(plain), 0, 12) + "\"";
    }

    /** Reads the page from the class path (start-up only: it is blocking I/O). */
    public static DashboardPage load() {
        try (InputStream in = DashboardPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("dashboard page missing from the jar: " + RESOURCE);
            }
            return new DashboardPage(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The answer to a request with these header values (either may be {@code null}): a 304 when
     * {@code If-None-Match} names this version, else the page, compressed when {@code Accept-Encoding} allows gzip.
     */
    public Answer answer(String acceptEncoding, String ifNoneMatch) {
        boolean gzip = acceptsGzip(acceptEncoding);
        if (ifNoneMatch != null && matches(ifNoneMatch)) {
            return new Answer(304, new byte[0], false, etag);
        }
        return new Answer(200, gzip ? gzipped : plain, gzip, etag);
    }

    public String etag() {
        return etag;
    }

    private boolean matches(String ifNoneMatch) {
        for (String tag : ifNoneMatch.split(",")) {
            String t = tag.trim();
            if (t.startsWith("W/")) {
                t = t.substring(2); // weak comparison, as RFC 9110 asks for If-None-Match
            }
            if (t.equals("*") || t.equals(etag)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an {@code Accept-Encoding} value lists gzip (or {@code *}) with a non-zero weight. */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String part : acceptEncoding.split(",")) {
            String[] fields = part.split(";");
            String coding = fields[0].trim().toLowerCase(Locale.ROOT);
            if (!coding.equals("gzip") && !coding.equals("*")) {
                continue;
            }
            boolean refused = false;
            for (int i = 1; i < fields.length; i++) {
                String p = fields[i].trim().toLowerCase(Locale.ROOT);
                if (p.startsWith("q=")) {
                    refused = parseWeight(p.substring(2)) <= 0;
                }
            }
            if (!refused) {
                return true;
            }
        }
        return false;
    }

    private static double parseWeight(String q) {
        try {
            return Double.parseDouble(q.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 3 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The page as text (tests). */
    String text() {
        return new String(plain, StandardCharsets.UTF_8);
    }
}
