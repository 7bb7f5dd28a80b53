package io.ollamabalancer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.ollamabalancer.upstream.EmbeddedUpstream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's flush and read policy on two embedded channels: the client one (whose flushes are counted and whose
 * writability the test switches) and an upstream one (whose {@code read()} requests are counted).
 */
class ResponsePacerTest {
    private final FlushCounter clientFlushes = new FlushCounter();
    private EmbeddedChannel client;
    private EmbeddedChannel upstream;
    private ResponsePacer pacer;

    @BeforeEach
    void channels() {
        client = new EmbeddedChannel(clientFlushes, new ChannelInboundHandlerAdapter());
        upstream = EmbeddedUpstream.channel();
        clientFlushes.count = 0;
        pacer = new ResponsePacer(client.pipeline().lastContext(), upstream::read);
    }

    @AfterEach
    void release() {
        client.finishAndReleaseAll();
        upstream.finishAndReleaseAll();
    }

    @Test
    void partsOfOneReadBurstAreFlushedOnceAtItsEndInOrderAndTheNextReadIsAskedFor() {
        pacer.head(head());
        pacer.part(chunk("a"));
        pacer.part(chunk("b"));
        assertThat(client.outboundMessages()).as("nothing leaves before the burst ends").isEmpty();
        assertThat(reads()).isZero();

        pacer.burstEnded();

        assertThat(drained()).containsExactly("head", "a", "b");
        assertThat(clientFlushes.count).isEqualTo(1);
        assertThat(reads()).isEqualTo(1);

        pacer.part(chunk("c"));
        pacer.burstEnded();
        pacer.part(chunk("d"));
        pacer.last(new DefaultLastHttpContent(Unpooled.copiedBuffer("e", StandardCharsets.UTF_8)));
        pacer.burstEnded();

        assertThat(drained()).containsExactly("c", "d", "e(last)");
        assertThat(clientFlushes.count).as("one flush per burst, the last part's included").isEqualTo(3);
        assertThat(reads()).as("nothing is read after the last part").isEqualTo(2);
    }

    @Test
    void aBurstThatProducedNothingNeitherFlushesNorReads() {
        pacer.burstEnded();

        assertThat(clientFlushes.count).isZero();
        assertThat(reads()).isZero();
    }

    @Test
    void anUnwritableClientPausesUpstreamReadsUntilItDrains() {
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        pacer.head(head());
        pacer.part(chunk("a"));
        assertThat(pacer.burstEnded()).as("paused").isTrue();

        assertThat(drained()).as("what was read is still delivered").containsExactly("head", "a");
        assertThat(reads()).as("no read while the client cannot take more").isZero();
        assertThat(pacer.clientWritable()).as("the pause ended").isTrue();
        assertThat(reads()).isEqualTo(1);
        assertThat(pacer.clientWritable()).isFalse();
        assertThat(reads()).as("one read per pause, not one per writability event").isEqualTo(1);

        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        pacer.part(chunk("b"));
        assertThat(pacer.burstEnded()).as("not paused").isFalse();
        assertThat(drained()).containsExactly("b");
        assertThat(reads()).isEqualTo(2);
    }

    @Test
    void flushBeforeACloseSendsWhatWaitsForItsBurst() {
        pacer.head(head());
        pacer.part(chunk("a"));

        pacer.flush();

        assertThat(drained()).containsExactly("head", "a");
        assertThat(reads()).isZero();
    }

    @Test
    void aBurstOfRawBytesAloneIsFlushedFromTheEncoderAndAMixedOneFromTheClient() {
        FlushCounter below = new FlushCounter();
        FlushCounter above = new FlushCounter();
        ChannelDuplexHandler encoderStandIn = new ChannelDuplexHandler();
        EmbeddedChannel ch = new EmbeddedChannel(below, encoderStandIn, above, new ChannelInboundHandlerAdapter());
        try {
            ResponsePacer raw = new ResponsePacer(ch.pipeline().lastContext(), upstream::read);
            ChannelHandlerContext encoder = ch.pipeline().context(encoderStandIn);
            raw.chunkedBytes(encoder, Unpooled.copiedBuffer("1\r\na\r\n", StandardCharsets.UTF_8));
            raw.chunkedBytes(encoder, Unpooled.copiedBuffer("1\r\nb\r\n", StandardCharsets.UTF_8));
            raw.burstEnded();

            assertThat(below.count).as("the bytes were flushed").isEqualTo(1);
            assertThat(above.count).as("from the encoder: nothing above it wrote").isZero();
            assertThat(texts(ch)).containsExactly("1\r\na\r\n", "1\r\nb\r\n");

            raw.part(chunk("c"));
            raw.chunkedBytes(encoder, Unpooled.copiedBuffer("1\r\nd\r\n", StandardCharsets.UTF_8));
            raw.burstEnded();

            assertThat(above.count).as("a part written from the client: the flush starts there").isEqualTo(1);
            assertThat(below.count).isEqualTo(2);
            assertThat(texts(ch)).containsExactly("c", "1\r\nd\r\n");

            raw.chunkedBytes(encoder, Unpooled.copiedBuffer("1\r\ne\r\n", StandardCharsets.UTF_8));
            raw.flush();
            assertThat(above.count).as("raw bytes alone again").isEqualTo(1);
            assertThat(below.count).isEqualTo(3);
            assertThat(texts(ch)).containsExactly("1\r\ne\r\n");
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static List<String> texts(EmbeddedChannel ch) {
        List<String> out = new ArrayList<>();
        Object m;
        while ((m = ch.readOutbound()) != null) {
            ByteBuf b = m instanceof HttpContent c ? c.content() : (ByteBuf) m;
            out.add(b.toString(StandardCharsets.UTF_8));
            ReferenceCountUtil.release(m);
        }
        return out;
    }

    private List<String> drained() {
        List<String> out = new ArrayList<>();
        Object m;
        while ((m = client.readOutbound()) != null) {
            if (m instanceof HttpResponse) {
                out.add("head");
            } else if (m instanceof HttpContent c) {
                String text = c.content().toString(StandardCharsets.UTF_8);
                out.add(m instanceof LastHttpContent ? text + "(last)" : text);
            }
            ReferenceCountUtil.release(m);
        }
        return out;
    }

    private static HttpResponse head() {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    }

    private static HttpContent chunk(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
    }

    private int reads() {
        return EmbeddedUpstream.reads(upstream);
    }

    /** Counts the flushes going out of its channel (shared with the relay's test). */
    static final class FlushCounter extends ChannelDuplexHandler {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }
}
