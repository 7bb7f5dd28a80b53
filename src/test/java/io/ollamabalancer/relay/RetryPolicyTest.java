package io.ollamabalancer.relay;

import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.relay.RetryPolicy.Next;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    @Test
    void aStaleReusedConnectionIsRetriedOnceOnAFreshOneWhateverTheRoute() {
        for (RouteKind route : RouteKind.values()) {
            assertThat(RetryPolicy.after(FailureKind.RESET_ON_REUSED, route, false)).as(route.name())
                    .isEqualTo(Next.FRESH_CONNECTION);
        }
        assertThat(RetryPolicy.after(FailureKind.RESET_ON_REUSED, RouteKind.INFERENCE, true))
                .isEqualTo(Next.ELSEWHERE);
        assertThat(RetryPolicy.after(FailureKind.RESET_ON_REUSED, RouteKind.PASSTHROUGH, true))
                .isEqualTo(Next.GIVE_UP);
    }

    @Test
    void whatWasNeverSentGoesElsewhereAndWhatMayHaveRunGoesElsewhereOnlyWhenReplayable() {
        for (FailureKind k : new FailureKind[] {FailureKind.REFUSED, FailureKind.CONNECT_FAILED,
                FailureKind.POOL_EXHAUSTED, FailureKind.BUSY}) {
            assertThat(RetryPolicy.after(k, RouteKind.PASSTHROUGH, false)).as(k.name()).isEqualTo(Next.ELSEWHERE);
        }
        assertThat(RetryPolicy.after(FailureKind.RESET_BEFORE_RESPONSE, RouteKind.INFERENCE, false))
                .isEqualTo(Next.ELSEWHERE);
        assertThat(RetryPolicy.after(FailureKind.RESET_BEFORE_RESPONSE, RouteKind.PASSTHROUGH, false))
                .isEqualTo(Next.GIVE_UP);
    }

    @Test
    void aTimedOutRequestHasBeenProcessedAndIsNeverRepeated() {
        for (RouteKind route : RouteKind.values()) {
            assertThat(RetryPolicy.after(FailureKind.FIRST_BYTE_TIMEOUT, route, false)).isEqualTo(Next.GIVE_UP);
            assertThat(RetryPolicy.after(FailureKind.STALL, route, false)).isEqualTo(Next.GIVE_UP);
        }
    }
}
