/**
 * Settings and the backends file: {@link io.ollamabalancer.config.BalancerConfig} (merged from flags, environment,
 * {@code .env}, {@code conf/} and defaults by {@link io.ollamabalancer.config.SettingsResolver}),
 * {@link io.ollamabalancer.config.BackendsFile} ({@code containers.config.json}, validated with one-line errors) and
 * {@link io.ollamabalancer.config.ConfigWatcher} (reload on change). No Netty types.
 */
package io.ollamabalancer.config;
