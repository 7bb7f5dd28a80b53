package io.ollamabalancer.relay;

import io.ollamabalancer.api.RouteKind;
import io.ollamabalancer.backend.FailureKind;
import io.ollamabalancer.relay.RetryPolicy.Next;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {
    private static final RouteKind[] PROXIED = {RouteKind.INFERENCE, RouteKind.MODEL_INFO, RouteKind.PASSTHROUGH};

    @Test
    void aStaleReusedConnectionIsRetriedOnceOnAFreshOneWhateverTheRoute() {
        for (RouteKind route : PROXIED) {
            assertThat(RetryPolicy.forRoute(route).after(FailureKind.RESET_ON_REUSED)).as(route.name())
                    .isEqualTo(Next.FRESH_CONNECTION);
        }
    }

    @Test
    void aSecondStaleCloseInARowGoesElsewhereWhenReplayableAndOtherwiseGivesUp() {
        RetryPolicy inference = RetryPolicy.forRoute(RouteKind.INFERENCE);
        assertThat(inference.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.FRESH_CONNECTION);
        assertThat(inference.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.REQUEUE);
        assertThat(inference.after(FailureKind.RESET_ON_REUSED)).as("spent for good").isEqualTo(Next.REQUEUE);

        RetryPolicy info = RetryPolicy.forRoute(RouteKind.MODEL_INFO);
        assertThat(info.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.FRESH_CONNECTION);
        assertThat(info.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.ANOTHER_BACKEND);

        RetryPolicy pull = RetryPolicy.forRoute(RouteKind.PASSTHROUGH);
        assertThat(pull.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.FRESH_CONNECTION);
        assertThat(pull.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.GIVE_UP);
    }

    @Test
    void whatWasNeverSentGoesWhereTheRouteAllowsAndNoFreshRetryIsSpentOnIt() {
        for (FailureKind k : new FailureKind[] {FailureKind.REFUSED, FailureKind.CONNECT_FAILED,
                FailureKind.POOL_EXHAUSTED, FailureKind.BUSY}) {
            RetryPolicy inference = RetryPolicy.forRoute(RouteKind.INFERENCE);
            assertThat(inference.after(k)).as(k.name()).isEqualTo(Next.REQUEUE);
            assertThat(inference.after(FailureKind.RESET_ON_REUSED)).isEqualTo(Next.FRESH_CONNECTION);
            assertThat(RetryPolicy.forRoute(RouteKind.MODEL_INFO).after(k)).as(k.name())
                    .isEqualTo(Next.ANOTHER_BACKEND);
            // A pass-through request was sent to the backend it names (or that holds its blobs): nowhere else.
            assertThat(RetryPolicy.forRoute(RouteKind.PASSTHROUGH).after(k)).as(k.name()).isEqualTo(Next.GIVE_UP);
        }
    }

    @Test
    void movesAfterFailuresThatSayNothingAgainstTheBackendAreBounded() {
        RetryPolicy inference = RetryPolicy.forRoute(RouteKind.INFERENCE);
        for (int i = 0; i < RetryPolicy.MAX_SOFT_MOVES; i++) {
            assertThat(inference.after(FailureKind.POOL_EXHAUSTED)).isEqualTo(Next.REQUEUE);
        }
        assertThat(inference.after(FailureKind.POOL_EXHAUSTED)).as("a bound that stays reached ends")
                .isEqualTo(Next.GIVE_UP);
        // Failures that exclude the backend are bounded by the fleet instead (each one leaves a backend out).
        RetryPolicy refused = RetryPolicy.forRoute(RouteKind.INFERENCE);
        for (int i = 0; i < 10; i++) {
            assertThat(refused.after(FailureKind.REFUSED)).isEqualTo(Next.REQUEUE);
        }
    }

    @Test
    void whatMayHaveRunIsRepeatedOnlyWhenReplayable() {
        assertThat(RetryPolicy.forRoute(RouteKind.INFERENCE).after(FailureKind.RESET_BEFORE_RESPONSE))
                .isEqualTo(Next.REQUEUE);
        assertThat(RetryPolicy.forRoute(RouteKind.MODEL_INFO).after(FailureKind.RESET_BEFORE_RESPONSE))
                .isEqualTo(Next.ANOTHER_BACKEND);
        assertThat(RetryPolicy.forRoute(RouteKind.PASSTHROUGH).after(FailureKind.RESET_BEFORE_RESPONSE))
                .isEqualTo(Next.GIVE_UP);
    }

    @Test
    void aTimedOutOrStartedRequestHasBeenProcessedAndIsNeverRepeated() {
        for (RouteKind route : PROXIED) {
            RetryPolicy p = RetryPolicy.forRoute(route);
            for (FailureKind k : new FailureKind[] {FailureKind.FIRST_BYTE_TIMEOUT, FailureKind.STALL,
                    FailureKind.DIED_MID_STREAM, FailureKind.ERROR_STATUS, FailureKind.ERROR_LINE,
                    FailureKind.CLIENT_GONE}) {
                assertThat(p.after(k)).as(route + " " + k).isEqualTo(Next.GIVE_UP);
            }
        }
    }

    @Test
    void aStreamedBodyIsNeverSentTwiceWhateverTheFailure() {
        for (FailureKind k : FailureKind.values()) {
            assertThat(RetryPolicy.streamedBody().after(k)).as(k.name()).isEqualTo(Next.GIVE_UP);
        }
    }
}
