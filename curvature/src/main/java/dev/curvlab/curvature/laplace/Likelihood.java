package dev.curvlab.curvature.laplace;

import dev.curvlab.nn.loss.Loss;

/**
 * The log-likelihood {@code log p(D | theta)} of a model's loss with all its constants (the evidence
 * needs them), from the summed loss at the parameters:
 * <ul>
 * <li>mse, Gaussian with noise sigma: {@code -sum (f - y)^2 / (2 sigma^2) - (n out / 2) log(2 pi sigma^2)};</li>
 * <li>ce, categorical: {@code -sum CE}; bce, Bernoulli: {@code -sum BCE};</li>
 * <li>gaussian (heteroscedastic): {@code -NLL - (n k / 2) log(2 pi)}; poisson: {@code -NLL - sum log(y!)}.</li>
 * </ul>
 * {@link #curvatureScale} is c, the ratio of the summed NLL to the mean loss: {@code n} for ce,
 * {@code n out} for bce, {@code n out / (2 sigma^2)} for mse; the curvature of the summed NLL is
 * c times the curvature of the mean loss.
 *
 * @param summedLoss the loss with {@link dev.curvlab.nn.loss.Reduction#SUM} at the parameters
 * @param constant the data-dependent constant subtracted besides sigma's (poisson's {@code sum log y!})
 */
public record Likelihood(Loss loss, long samples, long outputs, double summedLoss, double constant) {
    /** True when the likelihood has a noise scale sigma (mse). */
    public boolean hasSigma() {
        return loss.name().equals("mse");
    }

    public double logLikelihood(double sigma) {
        if (hasSigma()) {
            double s2 = sigma * sigma;
            return -summedLoss / (2 * s2) - 0.5 * samples * outputs * Math.log(2 * Math.PI * s2);
        }
        return -summedLoss * loss.nllPerSum() - constant;
    }

    /** c: the summed NLL's curvature is c times the mean loss's. */
    public double curvatureScale(double sigma) {
        double c = (double) loss.normalizer(samples, outputs) * loss.nllPerSum();
        return hasSigma() ? c / (sigma * sigma) : c;
    }

    /** The constant of the loss's likelihood that the loss itself drops. */
    public static double constantOf(Loss loss, double[] targets, long samples, long outputs) {
        switch (loss.name()) {
            case "gaussian":
                return 0.5 * samples * (outputs / 2) * Math.log(2 * Math.PI);
            case "poisson": {
                double c = 0;
                for (double y : targets) {
                    c += logGamma(y + 1);
                }
                return c;
            }
            default:
                return 0;
        }
    }

    /** {@code log Gamma(x)} for x &gt; 0 (Stirling's series after shifting x past 7; exact sums of logs for integers). */
    static double logGamma(double x) {
        if (x == Math.rint(x) && x < 1e6) {
            double s = 0;
            for (int k = 2; k < x; k++) {
                s += Math.log(k);
            }
            return s;
        }
        double shift = 0;
        while (x < 7) {
            shift -= Math.log(x);
            x += 1;
        }
        double inv = 1 / x;
        double inv2 = inv * inv;
        return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI)
                + inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)));
    }
}
