package dev.curvlab.curvature.kfac;

import dev.curvlab.nn.loss.Loss;
import java.util.SplittableRandom;

/**
 * Labels drawn from the predictive distribution that each built-in loss is the negative
 * log-likelihood of (up to constants), as prepared targets: mse {@code y ~ N(f, 1/2)} per element
 * (the loss {@code (f - y)^2} is that Gaussian's NLL), ce one-hot {@code y ~ Categorical(softmax f)},
 * bce {@code y ~ Bernoulli(sigmoid f)}, poisson {@code y ~ Poisson(e^f)}, gaussian
 * {@code y ~ N(mu, e^s)}.
 */
final class LabelSampler {
    private LabelSampler() {
    }

    /** Targets for outputs {@code f} ({@code n x out}, row-major), row-major as the loss prepares them. */
    static double[] sample(Loss loss, double[] f, int n, int out, SplittableRandom rng) {
        switch (loss.name()) {
            case "mse": {
                double[] y = new double[n * out];
                for (int i = 0; i < y.length; i++) {
                    y[i] = f[i] + Math.sqrt(0.5) * gaussian(rng);
                }
                return y;
            }
            case "ce": {
                double[] y = new double[n * out];
                for (int s = 0; s < n; s++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < out; j++) {
                        max = Math.max(max, f[s * out + j]);
                    }
                    double total = 0;
                    for (int j = 0; j < out; j++) {
                        total += Math.exp(f[s * out + j] - max);
                    }
                    double u = rng.nextDouble() * total;
                    int pick = out - 1;
                    for (int j = 0; j < out; j++) {
                        u -= Math.exp(f[s * out + j] - max);
                        if (u < 0) {
                            pick = j;
                            break;
                        }
                    }
                    y[s * out + pick] = 1.0;
                }
                return y;
            }
            case "bce": {
                double[] y = new double[n * out];
                for (int i = 0; i < y.length; i++) {
                    y[i] = rng.nextDouble() < 1 / (1 + Math.exp(-f[i])) ? 1.0 : 0.0;
                }
                return y;
            }
            case "poisson": {
                double[] y = new double[n * out];
                for (int i = 0; i < y.length; i++) {
                    y[i] = poisson(Math.exp(f[i]), rng);
                }
                return y;
            }
            case "gaussian": {
                int k = out / 2;
                double[] y = new double[n * k];
                for (int s = 0; s < n; s++) {
                    for (int j = 0; j < k; j++) {
                        y[s * k + j] = f[s * out + j] + Math.exp(0.5 * f[s * out + k + j]) * gaussian(rng);
                    }
                }
                return y;
            }
            default:
                throw new IllegalArgumentException("no predictive distribution to sample labels from for loss '" + loss.name() + "'");
        }
    }

    static double gaussian(SplittableRandom rng) {
        double u = rng.nextDouble();
        double v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }

    /** Knuth's product method for small rates, a rounded normal approximation for large ones. */
    private static double poisson(double rate, SplittableRandom rng) {
        if (rate > 500) {
            return Math.max(0, Math.rint(rate + Math.sqrt(rate) * gaussian(rng)));
        }
        double limit = Math.exp(-rate);
        double p = rng.nextDouble();
        int k = 0;
        while (p > limit) {
            p *= rng.nextDouble();
            k++;
        }
        return k;
    }
}
