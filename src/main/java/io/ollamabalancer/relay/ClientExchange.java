package io.ollamabalancer.relay;

/**
 * What the client-side handler tells the exchange in progress on its connection. Called on the client's event loop.
 */
public interface ClientExchange {

    /**
     * {@code Retry-After} of the 503 an aborted request gets: the replica is going away and its load balancer
     * already sends new connections elsewhere, so a retry may come at once.
     */
    long ABORT_RETRY_AFTER_SECONDS = 1;

    /** The client's socket drained below its low watermark: reading upstream may resume. */
    void onClientWritable();

    /** The client's connection closed: abandon the request wherever it is (queue, upstream, stream). */
    void onClientClosed();

    /**
     * The balancer is shutting down and its grace ran out: end now, with an answer the client can act on. A request
     * whose response has not started gets 503 with {@code Retry-After} in its route's error shape; a stream under
     * way ends with one error line in its own format (a fixed-length body, which cannot, is cut by a close). Work
     * upstream is abandoned as if the client had left, and nothing is charged to a backend's health.
     */
    void abort(String reason);
}
