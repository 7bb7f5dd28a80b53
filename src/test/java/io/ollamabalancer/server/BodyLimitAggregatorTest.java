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
import io.netty.handler.codec.http.HttpServerCodec;
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
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(16, new BodyBudget(1 << 20)));
        ch.writeInbound(post(10));
        ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("01234", StandardCharsets.US_ASCII)));
        ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("56789", StandardCharsets.US_ASCII)));
        FullHttpRequest full = ch.readInbound();
        assertThat(full.content().toString(StandardCharsets.US_ASCII)).isEqualTo("0123456789");
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void oversizedBodyBecomesAClosing413RefusalAndItsBodyIsDropped() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(16, new BodyBudget(1 << 20)));
        ch.writeInbound(post(100));
        assertThat((Object) ch.readOutbound()).as("answered in its turn, not here").isNull();
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.status()).isEqualTo(413);
        assertThat(refused.closes()).isTrue();
        FullHttpResponse r = refused.answer();
        refused.release();
        assertThat(r.headers().get(HttpHeaderNames.CONTENT_TYPE)).startsWith("application/json");
        assertThat(r.content().toString(StandardCharsets.UTF_8))
                .startsWith("{\"error\":\"request body too large");
        r.release();
        ch.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("x".repeat(100), StandardCharsets.US_ASCII)));
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aBodyThatDoesNotFitTheBudgetGets503WithRetryAfterAndTheBudgetIsGivenBack() {
        BodyBudget budget = new BodyBudget(100);
        EmbeddedChannel a = new EmbeddedChannel(new BodyLimitAggregator(1000, budget));
        EmbeddedChannel b = new EmbeddedChannel(new BodyLimitAggregator(1000, budget));
        a.writeInbound(post(60));
        b.writeInbound(post(60));
        RefusedRequest refused = b.readInbound();
        assertThat(refused.status()).isEqualTo(503);
        FullHttpResponse r = refused.answer();
        assertThat(r.headers().get(HttpHeaderNames.RETRY_AFTER)).isEqualTo("1");
        r.release();
        refused.release();
        assertThat(budget.refused()).isEqualTo(1);

        a.writeInbound(new DefaultLastHttpContent(Unpooled.copiedBuffer("x".repeat(60), StandardCharsets.US_ASCII)));
        AggregatedRequest full = a.readInbound();
        assertThat(full.reserved()).isEqualTo(60);
        assertThat(budget.held()).isEqualTo(60);
        full.releaseBudget();
        full.releaseBudget();
        full.release();
        assertThat(budget.held()).isZero();
        // A connection that closes mid-body gives its share back too.
        a.writeInbound(post(50));
        assertThat(budget.held()).isEqualTo(50);
        a.finishAndReleaseAll();
        assertThat(budget.held()).isZero();
        b.finishAndReleaseAll();
    }

    @Test
    void aChunkedBodyReservesTheBudgetByDoublingsNotPerChunk() {
        BodyBudget budget = new BodyBudget(1 << 20);
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(1 << 20, budget));
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/chat");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        ch.writeInbound(head);
        for (int i = 0; i < 3000; i++) {
            ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
        }
        assertThat(budget.held()).as("held in doublings of 8 KiB").isEqualTo(32 * 1024);
        ch.writeInbound(LastHttpContent.EMPTY_LAST_CONTENT);
        AggregatedRequest full = ch.readInbound();
        assertThat(full.content().readableBytes()).isEqualTo(30_000);
        assertThat(full.headers().get(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo("30000");
        assertThat(full.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)).isFalse();
        full.releaseBudget();
        full.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aBrokenChunkBecomesAClosing400() {
        EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(), new BodyLimitAggregator(1 << 20,
                new BodyBudget(1 << 20)));
        ch.writeInbound(Unpooled.copiedBuffer("POST /api/chat HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                + "\r\n\r\n5\r\nhello\r\nzz\r\n", StandardCharsets.US_ASCII));
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.status()).isEqualTo(400);
        assertThat(refused.closes()).isTrue();
        assertThat(refused.message()).startsWith("malformed request body: ");
        refused.release();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void blobUploadsPassThroughPartByPartWithNoLimit() {
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(8, new BodyBudget(1 << 20)));
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
        EmbeddedChannel ch = new EmbeddedChannel(new BodyLimitAggregator(8, new BodyBudget(1 << 20)));
        HttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/chat");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        ch.writeInbound(head);
        ch.writeInbound(new DefaultHttpContent(Unpooled.copiedBuffer("0123456789", StandardCharsets.US_ASCII)));
        RefusedRequest refused = ch.readInbound();
        assertThat(refused.status()).as("at the chunk that crosses the limit").isEqualTo(413);
        refused.release();
        ch.finishAndReleaseAll();
    }
}
