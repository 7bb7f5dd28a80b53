package io.ollamabalancer.upstream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream channel: hands each decoded response part to the exchange currently attached,
 * or releases it when none is (a late message after the client left), and tells it when the channel drains (an
 * exchange streaming a request body waits for that). Closes the channel when it sat idle in the pool too long.
 * One instance per upstream channel; event-loop confined.
 *
 * <p>It also owns the channel's {@link RawBodySplitter} (which sits before the codec): it arms it for an exchange that
 * takes a chunked body raw, tells it what each decoded head announces, and hands on the raw body bytes it splits off.
 *
 * <p>Buffers: receives {@link HttpObject}s, and raw body bytes from the splitter; ownership passes to the attached
 * {@link UpstreamListener}, otherwise this handler releases them.
 */
final class UpstreamResponseHandler extends ChannelInboundHandlerAdapter {
    private final RawBodySplitter splitter = new RawBodySplitter(this);
    private UpstreamListener listener;
    private boolean idleInPool = true;

    /** The splitter to place before the codec. */
    RawBodySplitter splitter() {
        return splitter;
    }

    /** The next response's chunked body, if any, goes to the listener as raw bytes ({@link UpstreamListener#onUpstreamChunkedBytes}). */
    void passChunkedBodyRaw() {
        splitter.arm();
    }

    void attach(UpstreamListener l) {
        listener = l;
        idleInPool = false;
    }

    /** Detaches the current exchange; later messages are released. */
    void detach() {
        listener = null;
        idleInPool = true;
        splitter.disarm();
    }

    /** Data chunks of a chunked body, framing included, split off by the {@link RawBodySplitter}; ownership passes. */
    void rawBody(ByteBuf bytes) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamChunkedBytes(bytes);
        } else {
            bytes.release();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpResponse head && splitter.awaitingHead()) {
            boolean interim = head.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            // A body follows a head the decoder did not end at once (HEAD answers, 204, 304 come with their end).
            boolean chunkedBody = !interim && !(msg instanceof LastHttpContent) && head.decoderResult().isSuccess()
                    && HttpUtil.isTransferEncodingChunked(head);
            splitter.headDecoded(chunkedBody, interim);
        }
        UpstreamListener l = listener;
        if (l != null && msg instanceof HttpObject http) {
            l.onUpstreamMessage(http);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null) {
            l.onUpstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        listener = null;
        if (l != null) {
            l.onUpstreamClosed(null);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        UpstreamListener l = listener;
        if (l != null && ctx.channel().isWritable()) {
            l.onUpstreamWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        // Only a pooled, unused connection is closed for idleness. An attached one may legitimately be silent for
        // minutes while Ollama loads a model and prefills: its exchange keeps its own deadlines instead, derived
        // from the request's estimate (relay.ResponseDeadline: first byte, then stream idle).
        if (evt instanceof IdleStateEvent && idleInPool) {
            ctx.close();
        } else {
            ReferenceCountUtil.release(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        UpstreamListener l = listener;
        listener = null;
        ctx.close();
        if (l != null) {
            l.onUpstreamClosed(cause);
        }
    }
}
