package io.ollamabalancer.cli;

import io.ollamabalancer.config.BalancerConfig;

import java.nio.file.Path;

/** Resolves the TLS files' paths against the working directory, as the other file settings are. Stateless. */
final class TlsPaths {

    private TlsPaths() {
    }

    static BalancerConfig resolved(BalancerConfig config, Path workDir) {
        return config.toBuilder()
                .tlsCertFile(config.tlsCertFile() == null ? null : workDir.resolve(config.tlsCertFile()))
                .tlsKeyFile(config.tlsKeyFile() == null ? null : workDir.resolve(config.tlsKeyFile()))
                .backendCaFile(config.backendCaFile() == null ? null : workDir.resolve(config.backendCaFile()))
                .build();
    }
}
