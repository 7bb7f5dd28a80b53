package io.ollamabalancer.relay;

import io.netty.handler.codec.http.HttpContent;

/**
 * An exchange that takes its request body part by part, as the client sends it, instead of aggregated (a blob
 * upload). The client's handler hands it every part of the request, the last one included, even after the exchange
 * ended (it then releases them). Called on the client's event loop.
 */
public interface StreamingExchange extends ClientExchange {

    /** The next part of the request body; ownership passes. The last part is a {@code LastHttpContent}. */
    void onRequestContent(HttpContent part);

    /**
     * The client connection saw no read or write for the client idle timeout while this exchange ran. An exchange
     * waiting for the client's body (not holding it back itself) ends: a client that went silent mid-upload must
     * not hold a backend connection forever.
     */
    void onClientIdle();
}
