package io.ollamabalancer.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A raw HTTP/1.1 client socket for tests that must control the connection itself: read part of a stream, then
 * vanish. Not thread-safe.
 */
public final class RawClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final StringBuilder seen = new StringBuilder();

    public RawClient(int port) throws IOException {
        this(port, 0);
    }

    /** Connects with a receive buffer of about this many bytes (0: the system's), set before connecting. */
    public RawClient(int port, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Wraps a socket the test connected itself (a TLS one, say). */
    public RawClient(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout(10_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** Sends a POST with a JSON body. */
    public RawClient post(String path, String json) throws IOException {
        return post(path, json, "");
    }

    /** Sends a POST with a JSON body and one extra header. */
    public RawClient post(String path, String json, String header, String value) throws IOException {
        return post(path, json, header + ": " + value + "\r\n");
    }

    private RawClient post(String path, String json, String extraHeaders) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        String head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + extraHeaders + "Content-Length: " + body.length + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        return this;
    }

    /** Sends a GET. */
    public RawClient get(String path) throws IOException {
        out.write(("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return this;
    }

    /** Reads until the server closes the connection; true then (a read that times out throws instead). */
    public boolean readToEnd() throws IOException {
        byte[] buf = new byte[4096];
        int n;
        while ((n = in.read(buf)) >= 0) {
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return true;
    }

    /** Reads until the text seen so far contains {@code marker}; returns everything seen. */
    public String readUntil(String marker) throws IOException {
        byte[] buf = new byte[4096];
        while (seen.indexOf(marker) < 0) {
            int n = in.read(buf);
            if (n < 0) {
                break;
            }
            seen.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return seen.toString();
    }

    /** Reads until the server closes or {@code marker} appears. */
    public String readAll(String marker) throws IOException {
        return readUntil(marker);
    }

    /** The socket's input, for a test that reads a long response itself (after any {@code readUntil}). */
    public InputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
