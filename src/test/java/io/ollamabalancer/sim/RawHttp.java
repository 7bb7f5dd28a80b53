package io.ollamabalancer.sim;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately small HTTP/1.1 client over one socket, so tests can see what is really on the wire: each chunk of a
 * chunked body separately, whether the terminator came, and connection reuse. Not thread-safe.
 */
final class RawHttp implements Closeable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    RawHttp(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(10_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The head of a response. */
    record Head(int status, Map<String, String> headers) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        boolean chunked() {
            return "chunked".equalsIgnoreCase(header("transfer-encoding"));
        }
    }

    /** A whole response; {@code chunks} is empty unless chunked, and {@code terminated} says the 0-chunk came. */
    record Response(Head head, List<String> chunks, String body, boolean terminated) {
        int status() {
            return head.status();
        }

        String header(String name) {
            return head.header(name);
        }
    }

    RawHttp send(String method, String path, String body, String... headers) throws IOException {
        out.write(request(method, path, body, headers));
        out.flush();
        return this;
    }

    static byte[] request(String method, String path, String body, String... headers) {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        StringBuilder sb = new StringBuilder();
        sb.append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        boolean host = false;
        for (String h : headers) {
            host |= h.toLowerCase(Locale.ROOT).startsWith("host:");
            sb.append(h).append("\r\n");
        }
        if (!host) {
            sb.append("Host: 127.0.0.1\r\n");
        }
        if (body != null) {
            sb.append("Content-Type: application/json\r\nContent-Length: ").append(b.length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[head.length + b.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(b, 0, all, head.length, b.length);
        return all;
    }

    void writeRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    Head readHead() throws IOException {
        String status = line();
        String[] parts = status.split(" ", 3);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String l = line(); !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            headers.put(l.substring(0, colon).trim().toLowerCase(Locale.ROOT), l.substring(colon + 1).trim());
        }
        return new Head(Integer.parseInt(parts[1]), headers);
    }

    /** The next chunk's payload, or null after the terminating 0-chunk. Throws EOFException if the peer closed. */
    String nextChunk() throws IOException {
        String sizeLine = line();
        int size = Integer.parseInt(sizeLine.trim(), 16);
        if (size == 0) {
            line();
            return null;
        }
        byte[] data = in.readNBytes(size);
        if (data.length < size) {
            throw new EOFException("connection closed inside a chunk");
        }
        line();
        return new String(data, StandardCharsets.UTF_8);
    }

    /** Reads one complete response (HEAD: pass {@code head=true} so no body is expected). */
    Response read(boolean headRequest) throws IOException {
        Head h = readHead();
        if (headRequest) {
            return new Response(h, List.of(), "", true);
        }
        if (h.chunked()) {
            List<String> chunks = new ArrayList<>();
            boolean terminated = false;
            try {
                for (String c = nextChunk(); c != null; c = nextChunk()) {
                    chunks.add(c);
                }
                terminated = true;
            } catch (EOFException e) {
                // a cut stream: report what arrived
            }
            return new Response(h, chunks, String.join("", chunks), terminated);
        }
        String cl = h.header("content-length");
        int length = cl == null ? 0 : Integer.parseInt(cl);
        byte[] body = in.readNBytes(length);
        return new Response(h, List.of(), new String(body, StandardCharsets.UTF_8), true);
    }

    Response read() throws IOException {
        return read(false);
    }

    /** True once the peer has closed the connection (reads EOF). */
    boolean peerClosed() throws IOException {
        try {
            return in.read() < 0;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                break;
            }
            b.write(c);
        }
        if (c < 0 && b.size() == 0) {
            throw new EOFException("connection closed");
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
