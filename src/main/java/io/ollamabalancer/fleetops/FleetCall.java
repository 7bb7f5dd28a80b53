package io.ollamabalancer.fleetops;

import io.netty.channel.ChannelHandlerContext;
import io.ollamabalancer.api.Endpoint;
import io.ollamabalancer.relay.ClientExchange;
import io.ollamabalancer.relay.Responses;

/**
 * A client request the balancer answers itself, once, after asking backends (a merged list, a load sent to every
 * backend, a delete or copy on every holder): the answer is given exactly once, by whichever comes first of the backends' replies, the client leaving
 * (no answer) or a shutdown's abort (503). Subclasses give the answer after {@link #claim()} returned true.
 * Event-loop confined (the client's loop); holds no buffers.
 */
public abstract class FleetCall implements ClientExchange {
    protected final ChannelHandlerContext ctx;
    protected final Endpoint endpoint;
    private final Runnable done;
    private boolean finished;

    protected FleetCall(ChannelHandlerContext ctx, Endpoint endpoint, Runnable done) {
        this.ctx = ctx;
        this.endpoint = endpoint;
        this.done = done;
    }

    /** True the first time only: the caller then answers and calls {@link #done()}. */
    protected final boolean claim() {
        if (finished) {
            return false;
        }
        finished = true;
        return true;
    }

    /** Tells the connection the answer was written. */
    protected final void done() {
        done.run();
    }

    @Override
    public void onClientWritable() {
    }

    @Override
    public void onClientClosed() {
        if (claim()) {
            done();
        }
    }

    @Override
    public void abort(String reason) {
        if (claim()) {
            Responses.error(ctx, endpoint, 503, reason, ABORT_RETRY_AFTER_SECONDS);
            done();
        }
    }
}
