package dev.curvlab.spark.operator;

import dev.curvlab.curvature.operator.CurvatureOperator;
import dev.curvlab.curvature.operator.EmpiricalFisherOperator;
import dev.curvlab.curvature.operator.GgnOperator;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Sequential;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The curvature matrices that distribute over samples, with how the sum over all samples is
 * normalised: mean-loss matrices by {@code 1 / Z(n)} (Z the loss's mean normaliser over the whole
 * data set), the observed Fisher information not at all (a sum of negative log-likelihoods).
 */
public enum OperatorKind {
    HESSIAN("Hessian", true) {
        @Override
        public CurvatureOperator build(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
            return new HessianOperator(model, loss, data, theta, batchSize);
        }
    },
    GGN("GGN", true) {
        @Override
        public CurvatureOperator build(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
            return new GgnOperator(model, loss, data, theta, batchSize);
        }
    },
    EMPIRICAL_FISHER("empirical Fisher", false) {
        @Override
        public CurvatureOperator build(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
            return new EmpiricalFisherOperator(model, loss, data, theta, batchSize);
        }
    },
    OBSERVED_FISHER("observed Fisher", true) {
        @Override
        public CurvatureOperator build(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize) {
            return new ObservedFisherOperator(model, loss, data, theta, batchSize);
        }

        /** The summed loss's NLL factor ({@code Loss.scale(NLL)}: 1/2 for mse as unit-variance Gaussian, 1 otherwise). */
        @Override
        public double scale(Loss loss, long samples, long outputs) {
            return loss.scale(Reduction.NLL, samples, outputs);
        }
    };

    private final String title;
    private final boolean structured;

    OperatorKind(String title, boolean structured) {
        this.title = title;
        this.structured = structured;
    }

    /** The single-machine operator of this kind on {@code data}. */
    public abstract CurvatureOperator build(Sequential model, Loss loss, Dataset data, INDArray theta, int batchSize);

    /** The factor on the sum over all n samples of the per-batch products. */
    public double scale(Loss loss, long samples, long outputs) {
        return 1.0 / loss.normalizer(samples, outputs);
    }

    /** True when the structured full-matrix method applies (to Sequential dense networks). */
    public boolean structured() {
        return structured;
    }

    /** Hessian, GGN, empirical Fisher, observed Fisher. */
    public String title() {
        return title;
    }

    /** hessian, ggn, empirical-fisher, observed-fisher. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
