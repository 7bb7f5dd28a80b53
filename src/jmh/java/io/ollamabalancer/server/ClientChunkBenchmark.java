package io.ollamabalancer.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One streamed chunk through the client side of the pipeline (issue #11): the handlers that see every chunk a
 * client is sent, in {@link ServerChannelInitializer}'s order (codec, keep-alive, drain, HTTP/1.0, idle timers), on an
 * {@link EmbeddedChannel}. A request head goes in and a chunked response head goes out once; then each operation
 * writes and flushes one NDJSON line of the size Ollama streams (a pooled buffer, as the upstream read gives it) and
 * takes the encoded bytes off the channel. What the relay itself adds per chunk is measured apart
 * ({@code io.ollamabalancer.relay.TimingSnifferBenchmark}).
 *
 * <p>Not thread-safe: one benchmark thread per state. Buffers: each operation's chunk is owned by the channel once
 * written; the encoded output is released by the operation.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.AverageTime, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m", "-Dio.netty.leakDetection.level=disabled"})
public class ClientChunkBenchmark {
    /** A chunk as Ollama streams it: one generate line. */
    private static final byte[] LINE = ("{\"model\":\"llama3.2:1b\",\"created_at\":\"2026-12-06T02:49:12.123456789Z\","
            + "\"response\":\" the\",\"done\":false}\n").getBytes(StandardCharsets.US_ASCII);

    private EmbeddedChannel channel;
    private final PooledByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;

    @Setup(Level.Iteration)
    public void open() {
        ClientConnections connections = new ClientConnections();
        channel = new EmbeddedChannel();
        channel.pipeline().addLast("codec", new HttpServerCodec());
        channel.pipeline().addLast("keepalive", new HttpServerKeepAliveHandler());
        channel.pipeline().addLast("drain", new DrainHandler(connections));
        channel.pipeline().addLast("http10", new Http10Responses());
        channel.pipeline().addLast("idle", new IdleStateHandler(300_000, 0, 0, TimeUnit.MILLISECONDS));
        channel.pipeline().addLast("idle-close", new ClientIdleHandler(TimeUnit.MINUTES.toNanos(5)));
        channel.pipeline().addLast("request", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ReferenceCountUtil.release(msg); // the request handler's part
            }
        });
        channel.writeInbound(alloc.buffer().writeBytes(("POST /api/generate HTTP/1.1\r\nHost: x\r\n"
                + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
        DefaultHttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-ndjson");
        HttpUtil.setTransferEncodingChunked(head, true);
        channel.writeAndFlush(head);
        drain();
    }

    @TearDown(Level.Iteration)
    public void close() {
        channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        drain();
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int chunk() {
        ByteBuf content = alloc.directBuffer(LINE.length).writeBytes(LINE);
        channel.writeAndFlush(new DefaultHttpContent(content));
        return drain();
    }

    private int drain() {
        int bytes = 0;
        Object out;
        while ((out = channel.readOutbound()) != null) {
            if (out instanceof ByteBuf b) {
                bytes += b.readableBytes();
            }
            ReferenceCountUtil.release(out);
        }
        return bytes;
    }
}
