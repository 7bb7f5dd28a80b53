package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class MalformedRequestHandlerTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new HttpServerCodec(64, 256, 8192), new MalformedRequestHandler(256));
    }

    private static String written(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b = ch.readOutbound(); b != null; b = ch.readOutbound()) {
            sb.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return sb.toString();
    }

    private static void send(EmbeddedChannel ch, String text) {
        ch.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    @Test
    void headersOverTheLimitBecomeARefusalOf431InTheRequestsPlace() {
        EmbeddedChannel ch = channel();
        send(ch, "POST /api/blobs/sha256:ab HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(400)
                + "\r\nContent-Length: 3\r\n\r\nabc");
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.status()).isEqualTo(431);
        assertThat(refused.message()).isEqualTo("request header fields too large: the limit is 256 bytes");
        refused.release();
        assertThat((Object) ch.readInbound()).as("nothing else travels on").isNull();
        assertThat(written(ch)).as("answered in its turn by the request handler, not here").isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void aTooLongRequestLineBecomesARefusalOf414() {
        EmbeddedChannel ch = channel();
        send(ch, "GET /" + "x".repeat(100) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.status()).isEqualTo(414);
        assertThat(refused.message()).isEqualTo("request line too long");
        refused.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void connectAndAbsoluteFormTargetsAreRefusedNotForwardedAndTheirBodiesDropped() {
        EmbeddedChannel ch = channel();
        send(ch, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                + "POST http://other/api/generate HTTP/1.1\r\nHost: other\r\nContent-Length: 2\r\n\r\n{}"
                + "GET /api/tags HTTP/1.1\r\nHost: x\r\n\r\n");
        RefusedRequest connect = ch.readInbound();
        assertThat(connect.status()).isEqualTo(405);
        assertThat(connect.closes()).isFalse();
        connect.release();
        RefusedRequest absolute = ch.readInbound();
        assertThat(absolute.status()).isEqualTo(400);
        assertThat(absolute.message()).contains("not a forward proxy");
        absolute.release();
        HttpRequest next = ch.readInbound();
        assertThat(next.uri()).as("the next request is read as usual").isEqualTo("/api/tags");
        ((LastHttpContent) ch.readInbound()).release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void wellFormedRequestsPassThrough() {
        EmbeddedChannel ch = channel();
        send(ch, "POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
        HttpRequest head = ch.readInbound();
        assertThat(head.uri()).isEqualTo("/api/generate");
        LastHttpContent body = ch.readInbound();
        assertThat(body.content().toString(StandardCharsets.US_ASCII)).isEqualTo("{}");
        body.release();
        assertThat(written(ch)).isEmpty();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }
}
