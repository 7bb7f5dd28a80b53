package io.ollamabalancer.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class BodyLimitAggregatorTest {

    private static HttpRequest post(int length) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, length);
        return r;
    }

    @Test
    void bodyWithinLimitIsAggregated() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(16));
        ch.writeInbound(post(10));
        ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("01234", StandardCharsets.US_ASCII)));
        ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("56789", StandardCharsets.US_ASCII)));
        FullHttpRequest full = ch.readInbound();
        assertThat(full.content().toString(StandardCharsets.US_ASCII)).isEqualTo("0123456789");
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void oversizedBodyGets413WithOllamaErrorBodyAndClose() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(16));
        ch.writeInbound(post(100));
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(413);
        assertThat(r.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("application/json");
        assertThat(r.content().toString(StandardCharsets.UTF_8))
                .startsWith("{\"error\":\"request body too large");
        r.release();
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void blobUploadsPassThroughPartByPartWithNoLimit() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(8));
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/blobs/sha256:ab");
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 20);
        head.headers().set(HttpHeaderNames.EXPECT, "100-continue");
        ch.writeInbound(head);
        ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
        ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("abcdefghij", StandardCharsets.US_ASCII)));

        assertThat((Object) ch.readOutbound()).as("no 413, no 100 Continue from the aggregator").isNull();
        assertThat((Object) ch.readInbound()).isSameAs(head);
        HttpContent first = ch.readInbound();
        assertThat(first).isNotInstanceOf(LastHttpContent.class);
        assertThat(first.content().toString(StandardCharsets.US_ASCII)).isEqualTo("0123456789");
        first.release();
        LastHttpContent last = ch.readInbound();
        assertThat(last.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abcdefghij");
        last.release();
        assertThat(ch.isOpen()).isTrue();

        // The next ordinary request on the connection is aggregated (and limited) again.
        ch.writeInbound(post(4));
        ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("abcd", StandardCharsets.US_ASCII)));
        FullHttpRequest full = ch.readInbound();
        assertThat(full.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abcd");
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void chunkedBodyThatGrowsPastTheLimitIsRefused() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(8));
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/chat");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        ch.writeInbound(head);
        ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
        FullHttpResponse r = ch.readOutbound();
        assertThat(r.status().code()).isEqualTo(413);
        r.release();
        ch.finishAndReleaseAll();
    }
}
