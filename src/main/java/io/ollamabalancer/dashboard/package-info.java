/**
 * The live dashboard at {@code /balancer/ui}: the page ({@link io.ollamabalancer.dashboard.DashboardPage}), the
 * compact JSON it polls ({@link io.ollamabalancer.dashboard.DashboardData}) and the once-a-second chart sampler
 * ({@link io.ollamabalancer.dashboard.ChartSampler}) that keeps the last minutes so the charts start full. Side
 * system, like metrics: it reads the fleet, the scheduler and the recorders and adds no work to the request path.
 */
package io.ollamabalancer.dashboard;
