package io.ollamabalancer.server;

import io.netty.channel.group.ChannelGroupFuture;
import io.ollamabalancer.SuppressForbidden;
import io.ollamabalancer.config.Durations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;

/**
 * The phases of a graceful stop (SIGTERM, SIGINT), in order, each logged in one line starting {@code shutdown:}:
 * <ol>
 *   <li><b>draining</b>: {@code /ready} answers 503 and every response closes its connection; the background work
 *       that would start new requests (health probes, model polls, the config watcher, preloads) stops; new
 *       requests are still served for the {@code delay}, the time the load balancer in front needs to see the 503
 *       and take this replica out;</li>
 *   <li><b>listener closed</b>: no new connections; idle keep-alive connections are closed;</li>
 *   <li><b>drained</b> when every connection has closed (each closes after its last answer), or <b>grace
 *       expired</b> after {@code grace}: the exchanges still running are aborted (a stream ends with an error line,
 *       a queued request gets 503 with {@code Retry-After}) and what is left is closed;</li>
 *   <li><b>exited</b>: the cluster gets this replica's slots back, the event loops and resources stop.</li>
 * </ol>
 * {@link #hurry()} (a second signal) cuts the delay and the grace short.
 *
 * <p>Threading: {@link #start()} runs the phases on a thread of their own (they wait; no event loop ever does), and
 * may be called from any thread, any number of times. Holds no buffers.
 */
final class GracefulShutdown {
    private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);
    /** After the abort, how long the aborted answers get to be written before connections are closed regardless. */
    private static final long ABORT_WRITE_MILLIS = 2_000;

    private final Duration delay;
    private final Duration grace;
    private final ClientConnections connections;
    private final Runnable stopBackground;
    private final Runnable closeListeners;
    private final IntSupplier queued;
    private final Runnable release;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch hurry = new CountDownLatch(1);
    /** Counted down by the last connection's close, or by {@link #hurry()}. */
    private final CountDownLatch wake = new CountDownLatch(1);
    private final CompletableFuture<Void> done = new CompletableFuture<>();

    /**
     * @param stopBackground stops the timers and watchers that would create work
     * @param closeListeners closes the listening sockets (synchronously)
     * @param queued         requests now waiting in the scheduler's queues
     * @param release        the final teardown (cluster, event loops, resources; synchronously)
     */
    GracefulShutdown(Duration delay, Duration grace, ClientConnections connections, Runnable stopBackground,
                     Runnable closeListeners, IntSupplier queued, Runnable release) {
        this.delay = delay;
        this.grace = grace;
        this.connections = connections;
        this.stopBackground = stopBackground;
        this.closeListeners = closeListeners;
        this.queued = queued;
        this.release = release;
    }

    /** Starts the drain unless it has started; returns what completes once everything has stopped. */
    CompletableFuture<Void> start() {
        if (started.compareAndSet(false, true)) {
            // Before start() returns, so that /ready answers 503 from the moment the stop was asked for (a load
            // balancer polling it, or a caller checking right after, must not see a window where it still says ready).
            connections.beginDrain();
            Thread t = new Thread(this::run, "balancer-shutdown");
            t.start();
        }
        return done;
    }

    boolean started() {
        return started.get();
    }

    /** Ends the delay and the grace now (what is still running is aborted); no effect before {@link #start()}. */
    void hurry() {
        if (started.get() && hurry.getCount() > 0 && !done.isDone()) {
            log.warn("shutdown: asked again; ending the drain now");
        }
        hurry.countDown();
        wake.countDown();
    }

    @SuppressForbidden // the drain's own thread: it waits out the delay and the grace by design
    private void run() {
        long t0 = System.nanoTime();
        try {
            stopBackground.run();
            log.info("shutdown: draining; /ready answers 503, {} request(s) in flight ({} queued) on {} connection(s); "
                            + "new requests accepted for {}, then up to {} for them to finish",
                    connections.openRequests(), queued.getAsInt(), connections.connections(),
                    Durations.format(delay), Durations.format(grace));
            hurry.await(delay.toMillis(), TimeUnit.MILLISECONDS);
            closeListeners.run();
            connections.send(ClientConnections.Command.CLOSE_IF_IDLE);
            log.info("shutdown: listener closed; {} request(s) in flight ({} queued) on {} connection(s)",
                    connections.openRequests(), queued.getAsInt(), connections.connections());
            ChannelGroupFuture closed = connections.allClosed();
            closed.addListener(f -> wake.countDown());
            wake.await(grace.toMillis(), TimeUnit.MILLISECONDS);
            if (closed.isDone()) {
                log.info("shutdown: drained in {} ms; {} request(s) answered during the drain",
                        millisSince(t0), connections.answeredWhileDraining());
            } else {
                abortTheRest(closed);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("shutdown: the drain failed; stopping now", e);
        } finally {
            try {
                closeListeners.run();
                release.run();
                log.info("shutdown: exited after {} ms", millisSince(t0));
            } finally {
                done.complete(null);
            }
        }
    }

    private void abortTheRest(ChannelGroupFuture closed) throws InterruptedException {
        boolean hurried = hurry.getCount() == 0;
        int open = connections.openRequests();
        int waiting = Math.min(open, queued.getAsInt());
        long answered = connections.answeredWhileDraining();
        connections.send(ClientConnections.Command.ABORT);
        if (!closed.await(ABORT_WRITE_MILLIS)) {
            connections.closeAll().await(ABORT_WRITE_MILLIS);
        }
        log.warn("shutdown: {}; {} request(s) under way ended with an error, {} queued request(s) answered 503; {} "
                        + "request(s) answered during the drain", hurried ? "drain cut short" : "grace expired",
                open - waiting, waiting, answered);
    }

    private static long millisSince(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }
}
