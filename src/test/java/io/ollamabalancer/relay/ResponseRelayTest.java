package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.upstream.EmbeddedUpstream;
import io.ollamabalancer.upstream.UpstreamPools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backend's answer through the relay, on embedded channels: the upstream one has the real upstream pipeline (the
 * test writes the backend's raw bytes into it), the client one counts its flushes and collects what is written. The
 * test plays the exchange.
 */
class ResponseRelayTest {
    private static final long IDLE = TimeUnit.SECONDS.toNanos(1);
    private static final String NDJSON_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n";

    private final Backend backend = new Backend(new BackendConfig("b", URI.create("http://127.0.0.1:1"), 1, null,
            true));
    private final ResponsePacerTest.FlushCounter flushes = new ResponsePacerTest.FlushCounter();
    private final EmbeddedChannel client = new EmbeddedChannel(flushes, new ChannelInboundHandlerAdapter());
    private final EmbeddedChannel upstream = EmbeddedUpstream.channel();
    /** The connection a retry gets. */
    private final EmbeddedChannel spare = EmbeddedUpstream.channel();
    private final Exchange exchange = new Exchange();
    private UpstreamPools pools;
    private UpstreamCall call;
    private ResponseRelay relay;

    @BeforeEach
    void sendARequest() {
        client.freezeTime();
        pools = EmbeddedUpstream.pools(backend, client.eventLoop(), 0, upstream, spare);
        // No slot in these tests: the call's scheduler is never asked.
        call = new UpstreamCall(pools, null, client.eventLoop(), exchange);
        relay = new ResponseRelay(client.pipeline().lastContext(), call, exchange, 42, null, IDLE);
        attempt();
        Object m;
        while ((m = upstream.readOutbound()) != null) {
            ReferenceCountUtil.release(m);
        }
        flushes.count = 0;
    }

    /** What an exchange does to send its request (again). */
    private void attempt() {
        call.connect(backend, false);
        call.send(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/tags",
                Unpooled.EMPTY_BUFFER));
        relay.sent(TimeUnit.SECONDS.toNanos(2));
    }

    @AfterEach
    void tearDown() {
        call.end(false);
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        spare.finishAndReleaseAll();
        pools.close();
    }

    @Test
    void aStreamIsRelayedPartByPartWithOneFlushPerReadBurstAndItsEndCounts() {
        backend.healthTracker().onFailure(FailureKind.RESET_BEFORE_RESPONSE, "earlier");

        upstream.writeInbound(ascii(NDJSON_HEAD + chunk("{\"a\":1}\n") + chunk("{\"b\":2}\n")));

        List<Object> out = drained();
        HttpResponse head = (HttpResponse) out.get(0);
        assertThat(head.status().code()).isEqualTo(200);
        assertThat(head.headers().get(HttpHeaderNames.CONNECTION)).as("hop-by-hop").isNull();
        assertThat(head.headers().get("X-Request-Id")).isEqualTo("42");
        assertThat(head.headers().get("X-Balancer-Backend")).isEqualTo("b");
        assertThat(out.subList(1, out.size())).containsExactly("{\"a\":1}\n", "{\"b\":2}\n");
        assertThat(flushes.count).as("one flush for the burst, none per part").isEqualTo(1);
        assertThat(EmbeddedUpstream.reads(upstream)).as("the send's read, then one at the burst's end").isEqualTo(2);
        assertThat(relay.started()).isTrue();
        assertThat(relay.status()).isEqualTo(200);
        assertThat(relay.firstByteNanos()).isPositive();

        upstream.writeInbound(ascii(chunk("{\"done\":true}\n") + "0\r\n\r\n"));

        assertThat(drained()).containsExactly("{\"done\":true}\n", "(last)");
        assertThat(flushes.count).isEqualTo(2);
        assertThat(EmbeddedUpstream.reads(upstream)).as("nothing is read after the end").isEqualTo(2);
        assertThat(exchange.seen).containsExactly("part {\"a\":1}\n", "part {\"b\":2}\n", "part {\"done\":true}\n",
                "part ", "end keepAlive=true");
        assertThat(backend.healthTracker().passiveFailures()).as("a complete answer is a success").isZero();
    }

    @Test
    void aSlowClientHoldsReadsBackAndItsSilenceIsNoStallButTheBackendsIs() {
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        upstream.writeInbound(ascii(NDJSON_HEAD + chunk("{\"a\":1}\n")));
        assertThat(drained()).hasSize(2);
        assertThat(EmbeddedUpstream.reads(upstream)).as("no read while the client cannot take more").isEqualTo(1);

        advanceMillis(5_000);
        assertThat(exchange.seen).as("the client's slowness is no stall").doesNotContain("deadline STALL");

        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        relay.clientWritable();
        assertThat(EmbeddedUpstream.reads(upstream)).isEqualTo(2);
        advanceMillis(999);
        assertThat(exchange.seen).doesNotContain("deadline STALL");
        advanceMillis(1);
        assertThat(exchange.seen).contains("deadline STALL");
    }

    @Test
    void aHeadThatNeverComesPassesTheFirstByteDeadline() {
        advanceMillis(1_999);
        assertThat(exchange.seen).isEmpty();
        advanceMillis(1);
        assertThat(exchange.seen).containsExactly("deadline FIRST_BYTE_TIMEOUT");
    }

    @Test
    void aStreamThatFailsEndsWithOneErrorLineInItsOwnFraming() {
        upstream.writeInbound(ascii(NDJSON_HEAD + chunk("{\"a\":1}\n")));
        drained();

        relay.failStarted("backend 'b' failed mid-stream: connection closed");

        assertThat(drained()).containsExactly("{\"error\":\"backend 'b' failed mid-stream: connection closed\"}\n"
                + "(last)");
        assertThat(client.isOpen()).as("the stream is complete: the connection may serve the next").isTrue();
        advanceMillis(10_000);
        assertThat(exchange.seen).as("no deadline after the end").noneMatch(s -> s.startsWith("deadline"));
    }

    @Test
    void anSseStreamThatFailsEndsWithAnOpenAiErrorEvent() {
        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n" + chunk("data: {}\n\n")));
        drained();

        relay.failStarted("stalled");

        assertThat(drained()).containsExactly("data: {\"error\":{\"message\":\"stalled\",\"type\":\"api_error\","
                + "\"param\":null,\"code\":null}}\n\n(last)");
    }

    @Test
    void aFixedLengthAnswerCutShortIsClosedAfterWhatArrived() {
        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);

        relay.failStarted("connection closed");

        assertThat(drained()).as("flushed before the close").hasSize(2).element(1).isEqualTo("abc");
        assertThat(client.isOpen()).as("a close tells the client the body is truncated").isFalse();
    }

    @Test
    void interimHeadsAreReadPastAndAHeadTheExchangeRefusesIsNotRelayed() {
        upstream.writeInbound(ascii("HTTP/1.1 100 Continue\r\n\r\n"));
        assertThat(drained()).isEmpty();

        exchange.refuse = true;
        upstream.writeInbound(ascii("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"));
        assertThat(drained()).isEmpty();
        assertThat(exchange.seen).containsExactly("refused 503");
        assertThat(relay.started()).isFalse();
    }

    @Test
    void aRetryThatStartsWhileItsHeadIsTakenOverIsRelayedWhole() {
        exchange.retryOnRefuse = true;
        upstream.writeInbound(ascii("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"));
        assertThat(upstream.isOpen()).as("the refused attempt's connection is closed").isFalse();
        assertThat(drained()).isEmpty();

        spare.writeInbound(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk("ok")
                + "0\r\n\r\n"));

        List<Object> out = drained();
        assertThat(((HttpResponse) out.get(0)).status().code()).isEqualTo(200);
        assertThat(out.subList(1, out.size())).containsExactly("ok", "(last)");
    }

    @Test
    void anErrorAnswerIsRelayedAsItIsAndCountsNothingAgainstTheBackend() {
        String body = "{\"error\":\"model 'x' not found\"}";
        upstream.writeInbound(ascii("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body));

        List<Object> out = drained();
        assertThat(((HttpResponse) out.get(0)).status().code()).isEqualTo(404);
        assertThat(out.get(0)).as("a fixed-length answer read in one burst goes out as one message")
                .isInstanceOf(FullHttpResponse.class);
        assertThat(out.get(1)).isEqualTo(body + "(last)");
        assertThat(exchange.seen).endsWith("end keepAlive=true");
        assertThat(backend.healthTracker().passiveFailures()).isZero();
    }

    @Test
    void aBrokenAnswerReachesTheExchangeAsAClose() {
        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));

        assertThat(exchange.seen).anyMatch(s -> s.startsWith("closed "));
    }

    private void advanceMillis(long ms) {
        client.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
        client.runScheduledPendingTasks();
    }

    /** What the client was sent: heads as objects, parts as their text ({@code (last)} marks the last). */
    private List<Object> drained() {
        List<Object> out = new ArrayList<>();
        Object m;
        while ((m = client.readOutbound()) != null) {
            if (m instanceof HttpResponse) {
                out.add(m);
            }
            if (m instanceof HttpContent c) { // a full response is both
                String text = c.content().toString(StandardCharsets.UTF_8);
                out.add(m instanceof LastHttpContent ? text + "(last)" : text);
            }
            ReferenceCountUtil.release(m);
        }
        return out;
    }

    private static String chunk(String text) {
        return Integer.toHexString(text.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + text + "\r\n";
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    /** Plays the exchange: routes the upstream's events to the relay and records what the relay asks of it. */
    private final class Exchange implements UpstreamCall.Events, ResponseRelay.Owner {
        final List<String> seen = new ArrayList<>();
        boolean refuse;
        /** Takes a refused head over as the proxy does a 503 "busy": ends the attempt and starts the next at once. */
        boolean retryOnRefuse;

        @Override
        public void onConnected() {
        }

        @Override
        public void onConnectFailed(FailureKind kind, Throwable cause) {
            seen.add("connectFailed " + kind);
        }

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            relay.message(msg);
        }

        @Override
        public void onUpstreamReadComplete() {
            relay.readComplete();
        }

        @Override
        public boolean acceptHead(HttpResponse head) {
            if (refuse || retryOnRefuse) {
                seen.add("refused " + head.status().code());
                ReferenceCountUtil.release(head);
                if (retryOnRefuse) {
                    retryOnRefuse = false;
                    call.end(false);
                    attempt();
                }
                return false;
            }
            return true;
        }

        @Override
        public void onPart(HttpContent part) {
            seen.add("part " + part.content().toString(StandardCharsets.UTF_8));
        }

        @Override
        public void onResponseEnd(boolean keepAlive) {
            seen.add("end keepAlive=" + keepAlive);
        }

        @Override
        public void onDeadline(FailureKind kind) {
            seen.add("deadline " + kind);
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            seen.add("closed " + UpstreamCall.describe(cause));
        }
    }
}
