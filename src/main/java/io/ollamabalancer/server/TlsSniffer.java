package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.ollamabalancer.tls.ServerTls;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * First in an HTTPS listener's pipeline: looks at a new connection's first bytes and either replaces itself with an
 * {@link SslHandler} made from the certificate in force now (a TLS record), or answers plain HTTP with one readable
 * 400 and closes (anything else: someone typed {@code http://}), the way nginx does, instead of a handshake error
 * the client cannot show. A connection that sends nothing within the handshake timeout is closed.
 *
 * <p>Holds at most the few bytes of a first TLS record header until it decides; they go on to the
 * {@link SslHandler} (the decoder's cumulation is handed over when it leaves the pipeline); plain bytes are dropped.
 * One per channel, event loop only.
 */
final class TlsSniffer extends ByteToMessageDecoder {
    /** A TLS record header: content type, version, length. */
    private static final int RECORD_HEADER = 5;
    private static final byte[] PLAIN_REFUSAL = refusal();

    private final ServerTls tls;
    private ScheduledFuture<?> deadline;
    private boolean refused;

    TlsSniffer(ServerTls tls) {
        this.tls = tls;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> {
            tls.handshake("timeout");
            ctx.close();
        }, tls.handshakeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        deadline.cancel(false);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        deadline.cancel(false);
        super.channelInactive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < RECORD_HEADER) {
            return;
        }
        if (SslHandler.isEncrypted(in, false)) {
            // Same name: the SslHandler takes this place, and the bytes read so far are handed to it.
            ctx.pipeline().replace(this, "tls", tls.newHandler(ctx.alloc()));
            return;
        }
        refused = true;
        deadline.cancel(false);
        in.skipBytes(in.readableBytes());
        tls.handshake("plaintext");
        ctx.writeAndFlush(Unpooled.wrappedBuffer(PLAIN_REFUSAL)).addListener(ChannelFutureListener.CLOSE);
    }

    private static byte[] refusal() {
        String body = "{\"error\":\"this port serves HTTPS; use an https:// URL\"}";
        String head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\n"
                + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n";
        return (head + body).getBytes(StandardCharsets.US_ASCII);
    }
}
