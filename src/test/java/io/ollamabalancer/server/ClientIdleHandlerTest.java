package io.ollamabalancer.server;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ClientIdleHandlerTest {
    private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(60);

    @Test
    void idleConnectionWithoutRequestIsClosed() {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientIdleHandler(TIMEOUT));
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void connectionWithARequestInFlightStaysOpen() {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientIdleHandler(TIMEOUT));
        ch.attr(ClientRequestHandler.BUSY).set(Boolean.TRUE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isTrue();
        ch.attr(ClientRequestHandler.BUSY).set(Boolean.FALSE);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }

    @Test
    void aConnectionWhoseAnswerJustEndedIsKeptUntilItWasFreeForTheWholeTimeout() {
        EmbeddedChannel ch = new EmbeddedChannel(new ClientIdleHandler(TIMEOUT));
        // A long answer ended a moment ago: reads alone were idle for the timeout, the connection was not.
        ch.attr(ClientRequestHandler.BUSY).set(Boolean.FALSE);
        ch.attr(ClientRequestHandler.IDLE_SINCE).set(System.nanoTime());
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isTrue();
        // The next idle event, a timeout later, finds it free all that time.
        ch.attr(ClientRequestHandler.IDLE_SINCE).set(System.nanoTime() - TIMEOUT);
        ch.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertThat(ch.isOpen()).isFalse();
        ch.finishAndReleaseAll();
    }
}
