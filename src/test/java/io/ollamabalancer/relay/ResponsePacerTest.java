package io.ollamabalancer.relay;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's flush and read policy on two embedded channels: the client one (whose flushes are counted and whose
 * writability the test switches) and the upstream one (whose {@code read()} requests are counted).
 */
class ResponsePacerTest {
    private final FlushCounter clientFlushes = new FlushCounter();
    private final ReadCounter upstreamReads = new ReadCounter();
    private EmbeddedChannel client;
    private EmbeddedChannel upstream;
    private ResponsePacer pacer;

    @BeforeEach
    void channels() {
        client = new EmbeddedChannel(clientFlushes, new ChannelInboundHandlerAdapter());
        upstream = new EmbeddedChannel(upstreamReads);
        upstream.config().setAutoRead(false);
        clientFlushes.count = 0;
        upstreamReads.count = 0;
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
        assertThat(upstreamReads.count).isZero();

        pacer.burstEnded();

        assertThat(drained()).containsExactly("head", "a", "b");
        assertThat(clientFlushes.count).isEqualTo(1);
        assertThat(upstreamReads.count).isEqualTo(1);

        pacer.part(chunk("c"));
        pacer.burstEnded();
        pacer.part(chunk("d"));
        pacer.last(new DefaultLastHttpContent(Unpooled.copiedBuffer("e", StandardCharsets.UTF_8)));
        pacer.burstEnded();

        assertThat(drained()).containsExactly("c", "d", "e(last)");
        assertThat(clientFlushes.count).as("one flush per burst, the last part's included").isEqualTo(3);
        assertThat(upstreamReads.count).as("nothing is read after the last part").isEqualTo(2);
    }

    @Test
    void aBurstThatProducedNothingNeitherFlushesNorReads() {
        pacer.burstEnded();

        assertThat(clientFlushes.count).isZero();
        assertThat(upstreamReads.count).isZero();
    }

    @Test
    void anUnwritableClientPausesUpstreamReadsUntilItDrains() {
        client.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        pacer.head(head());
        pacer.part(chunk("a"));
        assertThat(pacer.burstEnded()).as("paused").isTrue();

        assertThat(drained()).as("what was read is still delivered").containsExactly("head", "a");
        assertThat(upstreamReads.count).as("no read while the client cannot take more").isZero();
        assertThat(pacer.clientWritable()).as("the pause ended").isTrue();
        assertThat(upstreamReads.count).isEqualTo(1);
        assertThat(pacer.clientWritable()).isFalse();
        assertThat(upstreamReads.count).as("one read per pause, not one per writability event").isEqualTo(1);

        client.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        pacer.part(chunk("b"));
        assertThat(pacer.burstEnded()).as("not paused").isFalse();
        assertThat(drained()).containsExactly("b");
        assertThat(upstreamReads.count).isEqualTo(2);
    }

    @Test
    void flushBeforeACloseSendsWhatWaitsForItsBurst() {
        pacer.head(head());
        pacer.part(chunk("a"));

        pacer.flush();

        assertThat(drained()).containsExactly("head", "a");
        assertThat(upstreamReads.count).isZero();
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

    /** Counts the flushes going out of its channel. */
    private static final class FlushCounter extends ChannelDuplexHandler {
        int count;

        @Override
        public void flush(ChannelHandlerContext ctx) {
            count++;
            ctx.flush();
        }
    }

    /** Counts the read requests of its channel. */
    private static final class ReadCounter extends ChannelDuplexHandler {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }
}
