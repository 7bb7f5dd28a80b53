package io.ollamabalancer.server;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClientIdleHandlerTest {

    @Test
    void idleConnectionWithoutRequestIsClosed() {
        EmbeddedChannel ch = new EmbeddedChannel(ClientIdleHandler.INSTANCE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void connectionWithARequestInFlightStaysOpen() {
        EmbeddedChannel ch = new EmbeddedChannel(ClientIdleHandler.INSTANCE);
        ch.attr(ClientRequestHandler.BUSY).set(Boolean.TRUE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isTrue();
        ch.attr(ClientRequestHandler.BUSY).set(Boolean.FALSE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }
}
