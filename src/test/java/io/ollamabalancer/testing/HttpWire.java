package io.ollamabalancer.testing;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One client socket that writes whatever bytes a test wants (pipelined requests, broken chunks, a head sent byte by
 * byte, HTTP/1.0) and reads answers as they are on the wire: a length-delimited body, a chunked one, or one that
 * ends at the close. Not thread-safe.
 */
public final class HttpWire implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public HttpWire(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** One answer: status, headers (lower-case names), body text, and whether it came chunked. */
    public record Answer(int status, Map<String, String> headers, String body, boolean chunked) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** Whether the server said it closes the connection after this answer. */
        public boolean closes() {
            return "close".equalsIgnoreCase(header("connection"));
        }
    }

    public HttpWire send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.UTF_8));
    }

    public HttpWire send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** A POST with a JSON body and an exact Content-Length, plus any extra header lines ("Name: value"). */
    public static String post(String path, String json, String... headers) {
        StringBuilder sb = new StringBuilder("POST ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("Content-Length: ").append(json.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n")
                .append(json).toString();
    }

    /** A GET with any extra header lines. */
    public static String get(String path, String... headers) {
        StringBuilder sb = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: localhost\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** Reads the next answer (skipping any {@code 100 Continue}); the body of a HEAD answer is not expected. */
    public Answer read() throws IOException {
        while (true) {
            String status = line();
            Map<String, String> headers = new LinkedHashMap<>();
            for (String l = line(); !l.isEmpty(); l = line()) {
                int colon = l.indexOf(':');
                headers.merge(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim(),
                        (a, b) -> a + ", " + b);
            }
            int code = Integer.parseInt(status.split(" ", 3)[1]);
            if (code == 100) {
                continue;
            }
            boolean chunked = "chunked".equalsIgnoreCase(headers.get("transfer-encoding"));
            String body;
            if (chunked) {
                body = chunkedBody();
            } else if (headers.containsKey("content-length")) {
                body = new String(in.readNBytes(Integer.parseInt(headers.get("content-length"))),
                        StandardCharsets.UTF_8);
            } else if (code == 204 || code == 304) {
                body = "";
            } else {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8); // delimited by the close
            }
            return new Answer(code, headers, body, chunked);
        }
    }

    private String chunkedBody() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int size = Integer.parseInt(line().trim(), 16);
            if (size == 0) {
                line();
                return sb.toString();
            }
            sb.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
            line();
        }
    }

    /** True when the server closed the connection (end of stream, or a reset). */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            b.write(c);
        }
        if (c < 0 && b.size() == 0) {
            throw new EOFException("connection closed");
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    public OutputStream output() {
        return out;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
