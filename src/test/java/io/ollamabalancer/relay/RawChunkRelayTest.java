package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.backend.Backend;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.upstream.EmbeddedUpstream;
import io.ollamabalancer.upstream.UpstreamPools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chunked answer crossing the relay raw, on embedded channels with the real codecs on both sides: the upstream
 * one has the real upstream pipeline, the client one a real {@link HttpServerCodec}, whose output bytes are what a
 * client would read. The test plays the exchange.
 */
class RawChunkRelayTest {
    private static final String HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
    private static final String CHUNKS = "8;x=1\r\n{\"a\":1}\n\r\n" + "e\r\n{\"done\":true}\n\r\n";

    private final Backend backend = new Backend(new BackendConfig("b", URI.create("http://127.0.0.1:1"), 1, null,
            true));
    private final ResponsePacerTest.FlushCounter flushes = new ResponsePacerTest.FlushCounter();
    private final EmbeddedChannel client = new EmbeddedChannel(flushes, new HttpServerCodec(),
            new ChannelInboundHandlerAdapter());
    private final EmbeddedChannel upstream = EmbeddedUpstream.channel();
    private final Exchange exchange = new Exchange();
    private UpstreamPools pools;
    private UpstreamCall call;
    private ResponseRelay relay;

    @AfterEach
    void tearDown() {
        call.end(false);
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        pools.close();
    }

    @Test
    void anHttp11ClientGetsTheBackendsChunksAsTheyCameAndTheEndThroughItsCodec() {
        assertThat(send(HttpVersion.HTTP_1_1)).isTrue();
        upstream.writeInbound(ascii(HEAD + CHUNKS.substring(0, 20)));
        upstream.writeInbound(ascii(CHUNKS.substring(20)));
        assertThat(flushes.count).as("one flush per read burst").isEqualTo(2);
        upstream.writeInbound(ascii("0\r\n\r\n"));

        String out = written();
        assertThat(out).startsWith("HTTP/1.1 200 OK\r\n").containsIgnoringCase("transfer-encoding: chunked\r\n")
                .endsWith("\r\n\r\n" + CHUNKS + "0\r\n\r\n");
        assertThat(exchange.data.toString()).isEqualTo("{\"a\":1}\n{\"done\":true}\n");
        assertThat(exchange.chunks).isEqualTo(2);
        assertThat(exchange.ended).isTrue();
    }

    @Test
    void aStreamThatFailsBetweenChunksEndsWithItsErrorLineAsAChunk() {
        send(HttpVersion.HTTP_1_1);
        upstream.writeInbound(ascii(HEAD + CHUNKS));
        upstream.close();

        String out = written();
        assertThat(out).contains("\r\n\r\n" + CHUNKS + "19\r\n{\"error\":\"backend died\"}\n\r\n0\r\n\r\n");
        assertThat(client.isOpen()).as("a complete answer keeps the connection").isTrue();
    }

    @Test
    void aStreamThatFailsInsideAChunkIsClosedAfterWhatArrived() {
        send(HttpVersion.HTTP_1_1);
        upstream.writeInbound(ascii(HEAD + "8\r\n{\"a\""));
        upstream.close();

        assertThat(written()).endsWith("\r\n\r\n8\r\n{\"a\"");
        assertThat(client.isOpen()).as("no line can follow half a chunk").isFalse();
    }

    @Test
    void anHttp10ClientOrAHeadRequestGetsDecodedParts() {
        assertThat(send(HttpVersion.HTTP_1_0)).isFalse();
        upstream.writeInbound(ascii(HEAD + CHUNKS + "0\r\n\r\n"));
        assertThat(exchange.chunks).as("counted part by part").isEqualTo(2);
        assertThat(exchange.data.toString()).as("raw data is only for raw chunks").isEmpty();
        assertThat(relay.takesChunkedBytes(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/")))
                .isFalse();
    }

    /** Connects and sends a request as an exchange does; returns whether the body was asked for raw. */
    private boolean send(HttpVersion clientVersion) {
        client.writeInbound(ascii("POST /api/generate " + clientVersion + "\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
        client.readInbound();
        pools = EmbeddedUpstream.pools(backend, client.eventLoop(), 0, upstream);
        call = new UpstreamCall(pools, null, client.eventLoop(), exchange);
        relay = new ResponseRelay(client.pipeline().lastContext(), call, exchange, 7, null, 0);
        call.connect(backend, false);
        boolean raw = relay.takesChunkedBytes(new DefaultHttpRequest(clientVersion, HttpMethod.POST, "/api/generate"));
        if (raw) {
            call.passChunkedBodyRaw();
        }
        call.send(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate",
                Unpooled.EMPTY_BUFFER));
        relay.sent(TimeUnit.SECONDS.toNanos(2));
        Object m;
        while ((m = upstream.readOutbound()) != null) {
            ReferenceCountUtil.release(m);
        }
        flushes.count = 0;
        return raw;
    }

    /** Every byte the client side wrote, as text. */
    private String written() {
        StringBuilder out = new StringBuilder();
        Object m;
        while ((m = client.readOutbound()) != null) {
            out.append(((ByteBuf) m).toString(StandardCharsets.UTF_8));
            ReferenceCountUtil.release(m);
        }
        return out.toString();
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    /** Plays the exchange: routes the upstream's events to the relay, fails a started stream when upstream closes. */
    private final class Exchange implements UpstreamCall.Events, ResponseRelay.Owner {
        final StringBuilder data = new StringBuilder();
        long chunks;
        boolean ended;

        @Override
        public void onConnected() {
        }

        @Override
        public void onConnectFailed(FailureKind kind, Throwable cause) {
        }

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            relay.message(msg);
        }

        @Override
        public void onUpstreamChunkedBytes(ByteBuf bytes) {
            relay.chunkedBytes(bytes);
        }

        @Override
        public void onUpstreamReadComplete() {
            relay.readComplete();
        }

        @Override
        public boolean acceptHead(HttpResponse head) {
            return true;
        }

        @Override
        public void onPart(HttpContent part) {
            if (part.content().isReadable()) {
                chunks++;
            }
        }

        @Override
        public void onData(ByteBuf buf, int from, int to) {
            data.append(buf.toString(from, to - from, StandardCharsets.UTF_8));
        }

        @Override
        public void onChunks(long n) {
            chunks += n;
        }

        @Override
        public void onResponseEnd(boolean keepAlive) {
            ended = true;
        }

        @Override
        public void onDeadline(FailureKind kind) {
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            if (relay.started()) {
                relay.failStarted("backend died");
            }
            call.end(false);
        }
    }
}
