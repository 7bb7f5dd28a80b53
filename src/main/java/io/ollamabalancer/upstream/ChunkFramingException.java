package io.ollamabalancer.upstream;

import io.netty.handler.codec.DecoderException;

/**
 * A backend's chunked body is not valid chunked framing (see {@link ChunkFraming}): a protocol failure of the
 * backend, handled like the HTTP decoder's own failures (the upstream connection is closed, the response fails).
 */
public final class ChunkFramingException extends DecoderException {
    private static final long serialVersionUID = 1L;

    public ChunkFramingException(String message) {
        super(message);
    }
}
