package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The raw body path of an upstream channel, on the real upstream pipeline in an {@link EmbeddedChannel}: a backend's
 * answer is written in as bytes, split at every possible place, and what the listener receives is checked.
 */
class RawBodySplitterTest {
    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
    /** Data chunks as the backend framed them, an extension and a chunk of 16 bytes included. */
    private static final String CHUNKS = "8\r\n{\"a\":1}\n\r\n10;ext=1\r\n{\"token\":\"abc\"}\n\r\n"
            + "e\r\n{\"done\":true}\n\r\n";
    private static final String LAST = "0\r\nX-Trailer: t\r\n\r\n";

    private final EmbeddedChannel ch = EmbeddedUpstream.channel();

    @AfterEach
    void tearDown() {
        ch.finishAndReleaseAll();
    }

    @Test
    void aChunkedBodyPassesRawWhereverTheReadsSplitItAndTheDecoderIsReadyForTheNextAnswer() {
        String answer = HEAD + CHUNKS + LAST;
        for (int a = 1; a < answer.length(); a++) {
            for (int b = a; b < answer.length(); b += 7) {
                Recorder r = exchange(true);
                ch.writeInbound(ascii(answer.substring(0, a)));
                ch.writeInbound(ascii(answer.substring(a, b)));
                ch.writeInbound(ascii(answer.substring(b)));
                assertThat(r.heads).as("split at %d, %d", a, b).containsExactly("200");
                assertThat(r.raw.toString()).as("split at %d, %d", a, b).isEqualTo(CHUNKS);
                assertThat(r.decoded).as("split at %d, %d", a, b).containsExactly("(last X-Trailer=t)");
                detach();
            }
        }
        Recorder next = exchange(false);
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assertThat(next.heads).containsExactly("200");
        assertThat(next.decoded).containsExactly("ok(last)");
        assertThat(next.raw.toString()).isEmpty();
    }

    @Test
    void anInterimHeadIsReadPastAndTheFinalOnesBodyPassesRaw() {
        Recorder r = exchange(true);
        ch.writeInbound(ascii("HTTP/1.1 100 Continue\r\n\r\n" + HEAD + CHUNKS + LAST));
        assertThat(r.heads).containsExactly("100", "200");
        assertThat(r.raw.toString()).isEqualTo(CHUNKS);
    }

    @Test
    void aBodyWithALengthIsDecodedAsWhenNotArmed() {
        Recorder r = exchange(true);
        ch.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), ascii("lo"));
        assertThat(r.decoded).containsExactly("hel", "lo(last)");
        assertThat(r.raw.toString()).isEmpty();
    }

    @Test
    void aChunkedBodyIsDecodedWhenNotArmed() {
        Recorder r = exchange(false);
        ch.writeInbound(ascii(HEAD + "2\r\nab\r\n" + "0\r\n\r\n"));
        assertThat(r.decoded).containsExactly("ab", "(last)");
        assertThat(r.raw.toString()).isEmpty();
    }

    @Test
    void brokenFramingClosesTheConnectionAndTellsTheListener() {
        Recorder r = exchange(true);
        ch.writeInbound(ascii(HEAD + "2\r\nab\r\n"));
        ch.writeInbound(ascii("1\r\nc\r\nzz\r\n"));
        assertThat(r.raw.toString()).as("nothing of the read that broke the framing").isEqualTo("2\r\nab\r\n");
        assertThat(r.closed).singleElement().isInstanceOf(ChunkFramingException.class);
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aCloseInsideTheBodyReachesTheListenerAsAClose() {
        Recorder r = exchange(true);
        ch.writeInbound(ascii(HEAD + "5\r\nab"));
        ch.close();
        assertThat(r.raw.toString()).isEqualTo("5\r\nab");
        assertThat(r.closed).hasSize(1);
    }

    /** Attaches a new recorder, arms the raw path if asked, and sends a request (the codec pairs answers with them). */
    private Recorder exchange(boolean raw) {
        Recorder r = new Recorder();
        UpstreamResponseHandler h = handler();
        h.attach(r);
        if (raw) {
            h.passChunkedBodyRaw();
        }
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate",
                Unpooled.EMPTY_BUFFER));
        Object m;
        while ((m = ch.readOutbound()) != null) {
            ReferenceCountUtil.release(m);
        }
        return r;
    }

    private void detach() {
        handler().detach();
    }

    private UpstreamResponseHandler handler() {
        return (UpstreamResponseHandler) ch.pipeline().get(UpstreamChannelInitializer.RELAY);
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** What a listener was given, as text. */
    private static final class Recorder implements UpstreamListener {
        final List<String> heads = new ArrayList<>();
        final List<String> decoded = new ArrayList<>();
        final StringBuilder raw = new StringBuilder();
        final List<Throwable> closed = new ArrayList<>();

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                heads.add(Integer.toString(r.status().code()));
            }
            if (msg instanceof HttpContent c) {
                String text = c.content().toString(StandardCharsets.US_ASCII);
                if (msg instanceof LastHttpContent last) {
                    StringBuilder t = new StringBuilder(text).append("(last");
                    last.trailingHeaders().forEach(e -> t.append(' ').append(e.getKey()).append('=').append(e.getValue()));
                    text = t.append(')').toString();
                }
                decoded.add(text);
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void onUpstreamChunkedBytes(ByteBuf bytes) {
            raw.append(bytes.toString(StandardCharsets.US_ASCII));
            bytes.release();
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            closed.add(cause);
        }
    }
}
