package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
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
import io.ollamabalancer.backend.Fleet;
import io.ollamabalancer.backend.Health;
import io.ollamabalancer.config.BackendConfig;
import io.ollamabalancer.estimate.TimingSample;
import io.ollamabalancer.request.InferenceRequest;
import io.ollamabalancer.schedule.DispatchTarget;
import io.ollamabalancer.schedule.LeastConnectionsPolicy;
import io.ollamabalancer.schedule.PendingRequest;
import io.ollamabalancer.schedule.Scheduler;
import io.ollamabalancer.upstream.EmbeddedUpstream;
import io.ollamabalancer.upstream.UpstreamPools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The upstream side of an exchange on embedded channels: a real pool lends an {@link EmbeddedChannel} with the real
 * upstream pipeline; a real scheduler hands out the slots. The test plays the exchange ({@link UpstreamCall.Events})
 * and the backend (raw bytes in, bytes out).
 */
class UpstreamCallTest {
    private static final String MODEL = "llama3.2:1b";

    private final Fleet fleet = new Fleet(List.of(new BackendConfig("b", URI.create("http://127.0.0.1:1"), 1,
            List.of(MODEL), true)));
    private final Backend backend = fleet.byName("b");
    private final EmbeddedChannel client = new EmbeddedChannel();
    private final EmbeddedChannel upstream = EmbeddedUpstream.channel();
    private final Recorder events = new Recorder();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final Scheduler scheduler = new Scheduler(fleet, new LeastConnectionsPolicy(), 100, Long.MAX_VALUE / 4,
            nanos::get, false);
    private UpstreamPools pools;
    private long ids;

    @BeforeEach
    void upAndHoldingItsModel() {
        backend.health(Health.UP);
        backend.updateLoaded(Set.of(MODEL));
    }

    @AfterEach
    void tearDown() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
        if (pools != null) {
            pools.close();
        }
        scheduler.close();
    }

    private UpstreamCall call(int maxOpen, EmbeddedChannel... idle) {
        pools = EmbeddedUpstream.pools(backend, client.eventLoop(), maxOpen, idle);
        return new UpstreamCall(pools, scheduler, client.eventLoop(), events);
    }

    @Test
    void aCallCountsOnceFromConnectToEndAndAHealthyConnectionGoesBackToThePool() {
        UpstreamCall call = call(0, upstream);

        call.connect(backend, false);

        assertThat(events.seen).containsExactly("connected");
        assertThat(call.connected()).isTrue();
        assertThat(call.reused()).as("it came from the idle pool").isTrue();
        assertThat(backend.outstanding().get()).isEqualTo(1);
        assertThat(pools.idleConnections(backend)).isZero();

        call.send(request("{\"model\":\"llama3.2:1b\"}"));
        assertThat(sentText()).startsWith("POST /api/generate HTTP/1.1").endsWith("{\"model\":\"llama3.2:1b\"}");
        assertThat(EmbeddedUpstream.reads(upstream)).as("the answer is asked for once the request is written")
                .isEqualTo(1);

        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
        assertThat(events.seen).containsExactly("connected", "head 200", "last ok", "readComplete");

        call.end(true);
        call.end(true);
        call.end(false);
        assertThat(backend.outstanding().get()).as("given back exactly once").isZero();
        assertThat(call.connected()).isFalse();
        assertThat(upstream.isOpen()).isTrue();
        assertThat(pools.idleConnections(backend)).as("back in the pool").isEqualTo(1);
        assertThat(EmbeddedUpstream.reads(upstream))
                .as("idle, it keeps a read asked for: a close is seen while it waits, and the next read costs nothing")
                .isEqualTo(2);

        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        assertThat(events.seen).as("nothing reaches a call that ended").hasSize(4);
    }

    @Test
    void anAbandonedConnectionIsClosedNotPooled() {
        UpstreamCall call = call(0, upstream);
        call.connect(backend, false);
        call.send(request(""));
        sentText();

        call.end(false);

        assertThat(upstream.isOpen()).as("closed, which is how Ollama learns to stop").isFalse();
        assertThat(pools.idleConnections(backend)).isZero();
        assertThat(backend.outstanding().get()).isZero();
        assertThat(events.seen).as("the exchange ended it: no close is reported back").containsExactly("connected");
    }

    @Test
    void theBalancersOwnConnectionBoundIsReportedAsPoolExhaustionAfterTheWaitAndStopsCounting() {
        UpstreamCall call = call(0);

        call.connect(backend, false);
        assertThat(events.seen).as("it waits for a connection to come free").isEmpty();
        assertThat(pools.waitingAcquires(backend)).isEqualTo(1);
        assertThat(backend.outstanding().get()).isEqualTo(1);
        passWaitTime();

        assertThat(events.seen).containsExactly("connectFailed POOL_EXHAUSTED");
        assertThat(pools.waitingAcquires(backend)).isZero();
        assertThat(call.connected()).isFalse();
        assertThat(backend.outstanding().get()).isZero();
        call.end(false);
        assertThat(backend.outstanding().get()).as("not given back twice").isZero();
    }

    @Test
    void aFreshConnectionIsNeverAnIdleOne() {
        UpstreamCall call = call(0, upstream);

        call.connect(backend, true);
        passWaitTime();

        assertThat(events.seen).containsExactly("connectFailed POOL_EXHAUSTED");
        assertThat(pools.idleConnections(backend)).as("the idle connection was not lent").isEqualTo(1);
    }

    @Test
    void aConnectionGivenBackGoesToTheFirstWaiterInOrder() {
        UpstreamCall holder = call(0, upstream);
        holder.connect(backend, false);
        Recorder secondEvents = new Recorder();
        Recorder thirdEvents = new Recorder();
        UpstreamCall second = new UpstreamCall(pools, scheduler, client.eventLoop(), secondEvents);
        UpstreamCall third = new UpstreamCall(pools, scheduler, client.eventLoop(), thirdEvents);
        second.connect(backend, false);
        third.connect(backend, false);
        assertThat(pools.waitingAcquires(backend)).isEqualTo(2);

        holder.send(request(""));
        sentText();
        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        holder.end(true);
        client.runPendingTasks();

        assertThat(secondEvents.seen).as("the first waiter has it").containsExactly("connected");
        assertThat(second.reused()).isTrue();
        assertThat(thirdEvents.seen).isEmpty();
        assertThat(pools.waitingAcquires(backend)).isEqualTo(1);
        assertThat(pools.idleConnections(backend)).isZero();

        second.send(request(""));
        sentText();
        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        second.end(true);
        client.runPendingTasks();
        assertThat(thirdEvents.seen).as("then the next").containsExactly("connected");
        third.end(true);
        assertThat(pools.idleConnections(backend)).as("nobody waits: idle").isEqualTo(1);
        assertThat(backend.outstanding().get()).isZero();
    }

    @Test
    void aCallThatEndsWhileWaitingWithdrawsItsWait() {
        UpstreamCall holder = call(0, upstream);
        holder.connect(backend, false);
        Recorder waiterEvents = new Recorder();
        UpstreamCall waiter = new UpstreamCall(pools, scheduler, client.eventLoop(), waiterEvents);
        waiter.connect(backend, false);
        assertThat(pools.waitingAcquires(backend)).isEqualTo(1);

        waiter.end(false); // the client left while its request waited for a connection

        assertThat(pools.waitingAcquires(backend)).isZero();
        assertThat(backend.outstanding().get()).isEqualTo(1);
        holder.end(true);
        client.runPendingTasks();
        passWaitTime();
        assertThat(waiterEvents.seen).as("neither a connection nor a failure reaches it").isEmpty();
        assertThat(pools.idleConnections(backend)).isEqualTo(1);
    }

    /** Lets the pool's wait for a connection (the connect timeout, 1 s in these pools) run out. */
    private void passWaitTime() {
        client.advanceTimeBy(1, TimeUnit.SECONDS);
        client.runScheduledPendingTasks();
    }

    @Test
    void aPooledConnectionWithoutReadsForTheIdleTimeIsClosedAndOneInUseIsNot() {
        UpstreamCall call = call(0, upstream);
        call.connect(backend, false);
        call.send(request("{}"));
        upstream.advanceTimeBy(61, TimeUnit.SECONDS);
        upstream.runScheduledPendingTasks();
        assertThat(upstream.isOpen()).as("in use: an exchange keeps its own deadlines").isTrue();

        upstream.writeInbound(ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
        call.end(true);
        upstream.advanceTimeBy(59, TimeUnit.SECONDS);
        upstream.runScheduledPendingTasks();
        assertThat(upstream.isOpen()).isTrue();
        upstream.advanceTimeBy(2, TimeUnit.SECONDS);
        upstream.runScheduledPendingTasks();
        assertThat(upstream.isOpen()).as("idle in the pool for the whole timeout").isFalse();
    }

    @Test
    void aWriteThatFailsReachesTheExchangeAsACloseBeforeAnyAnswer() {
        upstream.pipeline().addFirst(new ChannelOutboundHandlerAdapter() {
            @Override
            public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                ReferenceCountUtil.release(msg);
                promise.setFailure(new IOException("broken pipe"));
            }
        });
        UpstreamCall call = call(0, upstream);
        call.connect(backend, false);

        call.send(request("{}"));

        assertThat(events.seen).containsExactly("connected", "closed broken pipe");
        assertThat(EmbeddedUpstream.reads(upstream)).as("nothing to read").isZero();
        assertThat(call.reused()).as("the exchange classifies it as a stale keep-alive connection").isTrue();
        call.end(false);
        assertThat(backend.outstanding().get()).isZero();
    }

    @Test
    void aSlotIsGivenBackExactlyOnce() {
        UpstreamCall call = call(0);
        List<PendingRequest> dispatched = new ArrayList<>();
        PendingRequest first = submit(dispatched, new ArrayList<>());
        PendingRequest second = submit(dispatched, new ArrayList<>());
        assertThat(dispatched).containsExactly(first);
        assertThat(backend.slotsInUse()).isEqualTo(1);
        call.slotGranted(backend);

        call.completeSlot(first, TimingSample.EMPTY);
        assertThat(dispatched).as("the freed slot went to the next in line").containsExactly(first, second);

        call.completeSlot(first, TimingSample.EMPTY);
        PendingRequest third = submit(dispatched, new ArrayList<>());
        assertThat(dispatched).as("a second give-back frees nothing").doesNotContain(third);
        assertThat(backend.slotsInUse()).isEqualTo(1);
    }

    @Test
    void aRequeuedRequestGivesItsSlotBackAndGoesBackToTheScheduler() {
        UpstreamCall call = call(0);
        List<PendingRequest> dispatched = new ArrayList<>();
        List<Integer> rejected = new ArrayList<>();
        PendingRequest first = submit(dispatched, rejected);
        call.slotGranted(backend);

        call.requeue(first, FailureKind.CONNECT_FAILED);

        assertThat(rejected).as("its only backend is excluded now: 503").containsExactly(503);
        assertThat(backend.slotsInUse()).isZero();
        call.completeSlot(first, TimingSample.EMPTY);
        assertThat(backend.slotsInUse()).as("no slot is held after a requeue").isZero();
    }

    @Test
    void onlyWhatSaysTheBackendIsUnwellBecomesItsLastError() {
        UpstreamCall call = call(0);
        call.connect(backend, false);

        call.charge(FailureKind.POOL_EXHAUSTED, "too many open connections");
        assertThat(backend.lastError()).isNull();
        assertThat(backend.healthTracker().passiveFailures()).isZero();

        call.charge(FailureKind.RESET_BEFORE_RESPONSE, "connection reset");
        assertThat(backend.lastError()).isEqualTo("connection reset");
        assertThat(backend.healthTracker().passiveFailures()).isEqualTo(1);
        assertThat(UpstreamCall.describe(null)).isEqualTo("connection closed");
    }

    private PendingRequest submit(List<PendingRequest> dispatched, List<Integer> rejected) {
        InferenceRequest req = new InferenceRequest(MODEL, true, -1, null, "hi", 1, 0, "", false, 0);
        PendingRequest[] self = new PendingRequest[1];
        self[0] = new PendingRequest(++ids, req, MODEL, 0, nanos.get(),
                new DispatchTarget() {
                    @Override
                    public void dispatch(Backend chosen) {
                        dispatched.add(self[0]);
                    }

                    @Override
                    public void reject(int status, String message, long retryAfterSeconds) {
                        rejected.add(status);
                    }
                });
        scheduler.submit(self[0]);
        return self[0];
    }

    private String sentText() {
        StringBuilder out = new StringBuilder();
        Object m;
        while ((m = upstream.readOutbound()) != null) {
            out.append(((ByteBuf) m).toString(StandardCharsets.US_ASCII));
            ReferenceCountUtil.release(m);
        }
        return out.toString();
    }

    private static FullHttpRequest request(String body) {
        FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate",
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length());
        return r;
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** Plays the exchange: records what the call tells it, in order, and releases every part. */
    private static final class Recorder implements UpstreamCall.Events {
        final List<String> seen = new ArrayList<>();

        @Override
        public void onConnected() {
            seen.add("connected");
        }

        @Override
        public void onConnectFailed(FailureKind kind, Throwable cause) {
            seen.add("connectFailed " + kind);
        }

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            if (msg instanceof HttpResponse head) {
                seen.add("head " + head.status().code());
            }
            if (msg instanceof LastHttpContent last) {
                seen.add("last " + last.content().toString(StandardCharsets.US_ASCII));
            } else if (msg instanceof HttpContent part) {
                seen.add("part " + part.content().toString(StandardCharsets.US_ASCII));
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void onUpstreamReadComplete() {
            seen.add("readComplete");
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            seen.add("closed " + (cause == null ? "" : cause.getMessage()));
        }
    }
}
