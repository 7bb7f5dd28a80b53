package io.ollamabalancer.relay;

/**
 * What the client-side handler tells the exchange in progress on its connection. Called on the client's event loop.
 */
public interface ClientExchange {

    /** The client's socket drained below its low watermark: reading upstream may resume. */
    void onClientWritable();

    /** The client's connection closed: abandon the request wherever it is (queue, upstream, stream). */
    void onClientClosed();
}
