package io.ollamabalancer.upstream;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The waiter queue at a backend's connection bound: permits, first come first served, per-loop handover. */
class ConnectionBoundTest {
    private final EventLoop loopA = new EmbeddedChannel().eventLoop();
    private final EventLoop loopB = new EmbeddedChannel().eventLoop();
    private final List<String> log = new ArrayList<>();

    /** Records what it is given; passes a permit on when told it no longer wants one. */
    private final class Waiter implements ConnectionBound.Waiter {
        final String name;
        final EventLoop loop;
        final ConnectionBound bound;
        boolean gone;

        Waiter(String name, EventLoop loop, ConnectionBound bound) {
            this.name = name;
            this.loop = loop;
            this.bound = bound;
        }

        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public void permitGranted() {
            if (gone) {
                bound.permitFreed();
            } else {
                log.add(name + " permit");
            }
        }

        @Override
        public void channelHandedOver(Channel channel) {
            log.add(name + " channel");
        }
    }

    /** Takes the one connection of the waiters' bound, then queues {@code waiters} in this order. */
    private void taken(Waiter... waiters) {
        ConnectionBound bound = waiters[0].bound;
        assertThat(bound.takeOrQueue(new Waiter("holder", loopA, bound))).isTrue();
        for (Waiter w : waiters) {
            assertThat(bound.takeOrQueue(w)).isFalse();
        }
    }

    @Test
    void permitsUpToTheBoundThenWaitersQueue() {
        ConnectionBound bound = new ConnectionBound(2);
        assertThat(bound.takeOrQueue(new Waiter("a", loopA, bound))).isTrue();
        assertThat(bound.takeOrQueue(new Waiter("b", loopA, bound))).isTrue();
        assertThat(bound.open()).isEqualTo(2);
        assertThat(bound.takeOrQueue(new Waiter("c", loopA, bound))).isFalse();
        assertThat(bound.waiting()).isEqualTo(1);
        assertThat(bound.open()).isEqualTo(2);
    }

    @Test
    void aFreedPermitGoesToTheFirstWaiterWhateverItsLoopAndOnlyThenBackToTheCount() {
        ConnectionBound bound = new ConnectionBound(1);
        taken(new Waiter("first", loopB, bound), new Waiter("second", loopA, bound));

        bound.permitFreed();
        assertThat(log).containsExactly("first permit");
        assertThat(bound.open()).as("the permit moved, it was not given back").isEqualTo(1);
        bound.permitFreed();
        assertThat(log).containsExactly("first permit", "second permit");
        bound.permitFreed();
        assertThat(bound.open()).isZero();
        assertThat(bound.waiting()).isZero();
    }

    @Test
    void aNewcomerNeverOvertakesAWaiter() {
        ConnectionBound bound = new ConnectionBound(1);
        taken(new Waiter("first", loopA, bound));
        bound.permitFreed();
        // The permit is the first waiter's while it opens its channel: a newcomer queues behind.
        assertThat(bound.takeOrQueue(new Waiter("late", loopA, bound))).isFalse();
    }

    @Test
    void aReusableChannelGoesOnlyToAFirstWaiterOnItsOwnLoop() {
        ConnectionBound bound = new ConnectionBound(1);
        Waiter onB = new Waiter("onB", loopB, bound);
        Waiter onA = new Waiter("onA", loopA, bound);
        taken(onB, onA);

        assertThat(bound.takeFirstOn(loopA)).as("FIFO: the first waiter is on another loop").isNull();
        assertThat(bound.takeFirstOn(loopB)).isSameAs(onB);
        assertThat(bound.takeFirstOn(loopA)).isSameAs(onA);
        assertThat(bound.hasWaiters()).isFalse();
    }

    @Test
    void aWithdrawnWaiterIsSkippedAndAWaiterThatLeftPassesItsPermitOn() {
        ConnectionBound bound = new ConnectionBound(1);
        Waiter cancelled = new Waiter("cancelled", loopA, bound);
        Waiter left = new Waiter("left", loopA, bound);
        Waiter last = new Waiter("last", loopA, bound);
        taken(cancelled, left, last);

        assertThat(bound.withdraw(cancelled)).isTrue();
        assertThat(bound.withdraw(cancelled)).as("only once").isFalse();
        left.gone = true; // granted after it timed out: the permit goes on to the next one
        bound.permitFreed();

        assertThat(log).containsExactly("last permit");
        assertThat(bound.open()).isEqualTo(1);
    }
}
