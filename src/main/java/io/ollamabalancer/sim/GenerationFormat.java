package io.ollamabalancer.sim;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.time.Instant;

/**
 * How one generation is put on the wire: native NDJSON (generate, chat) or OpenAI SSE / JSON (/v1). One instance per
 * request (SSE formats remember whether the first chunk went out). Every returned buffer belongs to the caller.
 * Confined to the event loop.
 */
interface GenerationFormat {
    /** Content-Type of the streamed response. */
    String streamContentType();

    /** One streamed token chunk. */
    ByteBuf token(ByteBufAllocator alloc, String piece, Instant now);

    /** Everything after the last token: the final object(s), and for SSE the usage chunk and {@code [DONE]}. */
    ByteBuf last(ByteBufAllocator alloc, GenerationOutcome outcome);

    /** The non-streaming answer. */
    void replyWhole(SimExchange x, GenerationOutcome outcome);

    /** A failure after the stream started: Ollama's {@code {"error":…}} line (or what /v1 makes of it). */
    ByteBuf midStreamError(ByteBufAllocator alloc, String message);

    /** A failure before any byte went out: a real status with the endpoint's error body. */
    void replyError(SimExchange x, int status, String message);
}
