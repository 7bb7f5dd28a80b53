package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.ollamabalancer.tls.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;

/**
 * Right after the {@link io.netty.handler.ssl.SslHandler}: counts each handshake's outcome for {@code /metrics}
 * ({@code ok}, {@code failed}, {@code timeout}) and keeps TLS failures (a scanner, a client that does not trust the
 * certificate, a dropped connection mid-record) out of the log above DEBUG: they are the client's problem, one per
 * connection, and a busy port would fill the log. The {@code SslHandler} has already closed, or closes, the
 * connection. Holds no buffers; one per channel, event loop only.
 */
final class TlsHandshakes extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TlsHandshakes.class);

    private final ServerTls tls;

    TlsHandshakes(ServerTls tls) {
        this.tls = tls;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done) {
            if (done.isSuccess()) {
                tls.handshake("ok");
            } else {
                tls.handshake(done.cause() instanceof SslHandshakeTimeoutException ? "timeout" : "failed");
                log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), done.cause().toString());
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (isTls(cause)) {
            log.debug("TLS error on {}: {}", ctx.channel().remoteAddress(), cause.toString());
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }

    private static boolean isTls(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SSLException) {
                return true;
            }
        }
        return false;
    }
}
