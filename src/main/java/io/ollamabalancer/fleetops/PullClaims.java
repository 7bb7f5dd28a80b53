package io.ollamabalancer.fleetops;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Who pulls a declared model onto a backend when several balancer replicas front the same fleet: before a pull,
 * {@link ModelEnsurer} claims it; a replica that gets the claim pulls, the others wait and look again. Alone (and
 * whenever the shared store cannot be asked) every claim is this replica's: a duplicate pull is safe, since Ollama
 * downloads a blob once however many pulls ask for it, only wasteful.
 *
 * <p>Thread-safety: implementations are called from the ensurer's event loop and must not block; the returned stage
 * may complete on any thread.
 */
public interface PullClaims {
    /** Every claim granted at once: one replica alone. */
    PullClaims ALONE = (backend, model) -> CompletableFuture.completedFuture(Claim.MINE);

    /** Asks to pull {@code model} onto {@code backend}; never fails (an error is a claim granted). */
    CompletionStage<Claim> claim(String backend, String model);

    /** The answer to a claim. */
    interface Claim {
        /** Granted, with nothing to give back. */
        Claim MINE = new Claim() {
            @Override
            public boolean mine() {
                return true;
            }

            @Override
            public String holder() {
                return "";
            }

            @Override
            public void release(boolean pulled) {
            }
        };

        /** Whether this replica pulls. */
        boolean mine();

        /** Which replica pulls when it is not this one ({@code ""} when unknown or mine). */
        String holder();

        /**
         * Gives the claim back once the pull ended; no effect on a claim that is not mine. After a success the claim
         * lingers a little, so that a replica whose model list does not show the new model yet does not pull it
         * again; after a failure another replica may try at once.
         */
        void release(boolean pulled);
    }
}
