package io.ollamabalancer.relay;

import io.netty.channel.embedded.EmbeddedChannel;
import io.ollamabalancer.backend.FailureKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The response deadline on an {@link EmbeddedChannel}'s loop, whose frozen clock the test moves. */
class ResponseDeadlineTest {
    private static final long IDLE = TimeUnit.SECONDS.toNanos(1);

    private final List<FailureKind> expired = new ArrayList<>();
    private EmbeddedChannel channel;
    private ResponseDeadline deadline;

    @BeforeEach
    void setUp() {
        channel = new EmbeddedChannel();
        channel.freezeTime();
        deadline = new ResponseDeadline(channel.eventLoop(), IDLE, expired::add);
    }

    @AfterEach
    void tearDown() {
        channel.finishAndReleaseAll();
    }

    private void advanceMillis(long ms) {
        channel.advanceTimeBy(ms, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
    }

    @Test
    void aMissingHeadExpiresOnceAtTheFirstByteDeadline() {
        deadline.awaitHead(TimeUnit.MILLISECONDS.toNanos(2_000));
        advanceMillis(1_999);
        assertThat(expired).isEmpty();
        advanceMillis(1);
        assertThat(expired).containsExactly(FailureKind.FIRST_BYTE_TIMEOUT);
        advanceMillis(10_000);
        assertThat(expired).hasSize(1);
    }

    @Test
    void theHeadReplacesTheFirstByteDeadlineWithTheIdleOne() {
        deadline.awaitHead(TimeUnit.MILLISECONDS.toNanos(300));
        advanceMillis(200);
        deadline.headReceived();
        advanceMillis(900);
        assertThat(expired).as("neither the first-byte deadline nor a second of silence yet").isEmpty();
        advanceMillis(100);
        assertThat(expired).containsExactly(FailureKind.STALL);
    }

    @Test
    void activityPushesTheStallBackWithoutMovingTheTimer() {
        deadline.headReceived();
        for (int i = 0; i < 10; i++) {
            advanceMillis(600);
            deadline.activity();
        }
        assertThat(expired).as("a part every 600 ms is not a stall").isEmpty();
        advanceMillis(999);
        assertThat(expired).isEmpty();
        advanceMillis(1);
        assertThat(expired).containsExactly(FailureKind.STALL);
    }

    @Test
    void silenceWhileTheBalancerHoldsReadingBackNeverCounts() {
        deadline.headReceived();
        deadline.pause();
        advanceMillis(10_000);
        assertThat(expired).as("a slow client is not a stalled backend").isEmpty();
        deadline.resume();
        advanceMillis(999);
        assertThat(expired).isEmpty();
        advanceMillis(1_000);
        assertThat(expired).containsExactly(FailureKind.STALL);
    }

    @Test
    void cancelledOrZeroDeadlinesNeverFire() {
        deadline.awaitHead(0);
        advanceMillis(60_000);
        deadline.awaitHead(TimeUnit.MILLISECONDS.toNanos(100));
        deadline.cancel();
        advanceMillis(60_000);
        new ResponseDeadline(channel.eventLoop(), 0, expired::add).headReceived();
        advanceMillis(60_000);
        assertThat(expired).isEmpty();
    }

    @Test
    void deadlinesTakingTurnsOnOneConnectionClockEachFireAtTheirOwnTime() {
        List<FailureKind> second = new ArrayList<>();
        ResponseDeadline first = new ResponseDeadline(channel, IDLE, expired::add);
        ResponseDeadline next = new ResponseDeadline(channel, IDLE, second::add);

        first.awaitHead(TimeUnit.MILLISECONDS.toNanos(300));
        advanceMillis(100);
        first.headReceived();
        first.cancel();
        advanceMillis(100);
        next.awaitHead(TimeUnit.MILLISECONDS.toNanos(5_000));
        advanceMillis(4_999);
        assertThat(expired).as("the first ended: the timer it left finds nobody").isEmpty();
        assertThat(second).as("woken early by the timer the first left, the second waits out its own budget")
                .isEmpty();
        advanceMillis(1);
        assertThat(second).containsExactly(FailureKind.FIRST_BYTE_TIMEOUT);
        assertThat(expired).isEmpty();
    }

    @Test
    void aDeadlineFindingTheConnectionClockTakenKeepsATimerOfItsOwn() {
        List<FailureKind> second = new ArrayList<>();
        ResponseDeadline first = new ResponseDeadline(channel, IDLE, expired::add);
        ResponseDeadline other = new ResponseDeadline(channel, IDLE, second::add);

        first.awaitHead(TimeUnit.MILLISECONDS.toNanos(3_000));
        other.awaitHead(TimeUnit.MILLISECONDS.toNanos(2_000));
        advanceMillis(2_000);
        assertThat(second).containsExactly(FailureKind.FIRST_BYTE_TIMEOUT);
        assertThat(expired).isEmpty();
        advanceMillis(1_000);
        assertThat(expired).containsExactly(FailureKind.FIRST_BYTE_TIMEOUT);
    }
}
