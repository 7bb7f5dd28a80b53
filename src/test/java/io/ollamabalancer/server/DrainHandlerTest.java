package io.ollamabalancer.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DrainHandlerTest {
    private final ClientConnections connections = new ClientConnections();
    private final List<Object> events = new ArrayList<>();
    private final EmbeddedChannel ch = new EmbeddedChannel(new DrainHandler(connections),
            new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ReferenceCountUtil.release(msg); // the request handler's part
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    events.add(evt);
                }
            });

    private void request() {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/generate"));
    }

    private static DefaultFullHttpResponse ok() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    }

    private HttpResponse writtenHead() {
        Object out = ch.readOutbound();
        assertThat(out).isInstanceOf(HttpResponse.class);
        ReferenceCountUtil.release(out);
        return (HttpResponse) out;
    }

    @Test
    void countsOpenRequestsAndKeepsConnectionsAliveBeforeTheDrain() {
        request();
        request();
        assertThat(connections.openRequests()).isEqualTo(2);
        ch.writeOutbound(ok());
        assertThat(HttpUtil.isKeepAlive(writtenHead())).isTrue();
        assertThat(connections.openRequests()).isEqualTo(1);
        ch.writeOutbound(ok());
        writtenHead();
        assertThat(connections.openRequests()).isZero();
        assertThat(ch.isOpen()).isTrue();
        assertThat(connections.connections()).isEqualTo(1);
        ch.finishAndReleaseAll();
        assertThat(connections.connections()).as("a closed connection leaves the set").isZero();
    }

    @Test
    void duringTheDrainEveryResponseClosesItsConnectionOnceWritten() {
        request();
        connections.beginDrain();
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        assertThat(writtenHead().headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(ch.isOpen()).as("open while the stream runs").isTrue();
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(ch.isOpen()).as("closed after its last part").isFalse();
        assertThat(connections.answeredWhileDraining()).isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aStreamWhoseHeadWentOutBeforeTheDrainStillClosesWhenItEnds() {
        request();
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        assertThat(HttpUtil.isKeepAlive(writtenHead())).isTrue();
        connections.beginDrain();
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void anInterimResponseDoesNotEndTheRequest() {
        request();
        connections.beginDrain();
        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        assertThat(writtenHead().headers().contains(HttpHeaderNames.CONNECTION)).isFalse();
        assertThat(connections.openRequests()).isEqualTo(1);
        assertThat(ch.isOpen()).isTrue();
        ch.finishAndReleaseAll();
        assertThat(connections.openRequests()).as("a request dies with its connection").isZero();
    }

    @Test
    void closeIfIdleClosesOnlyAConnectionWithNothingOpen() {
        request();
        ch.pipeline().fireUserEventTriggered(ClientConnections.Command.CLOSE_IF_IDLE);
        assertThat(ch.isOpen()).isTrue();
        ch.writeOutbound(ok());
        writtenHead();
        ch.pipeline().fireUserEventTriggered(ClientConnections.Command.CLOSE_IF_IDLE);
        assertThat(ch.isOpen()).isFalse();
        assertThat(events).as("the command stops here").isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void abortGoesOnToTheRequestHandlerAndTheConnectionClosesAfterItsAnswer() {
        request();
        ch.pipeline().fireUserEventTriggered(ClientConnections.Command.ABORT);
        assertThat(events).containsExactly(ClientConnections.Command.ABORT);
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }
}
