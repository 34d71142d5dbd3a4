package dev.curvlab.curvature.laplace;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.kfac.ConvKfac;
import dev.curvlab.curvature.kfac.DiagonalKind;
import dev.curvlab.curvature.kfac.Kfac;
import dev.curvlab.curvature.kfac.KfacFactors;
import dev.curvlab.curvature.kfac.ParametricLayers;
import dev.curvlab.curvature.operator.HessianOperator;
import dev.curvlab.curvature.progress.ProgressListener;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.loss.Loss;
import dev.curvlab.nn.model.Sequential;
import java.io.IOException;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link Laplace} and its GLM predictive for models that are not dense chains (conv, pooling,
 * flatten), over the {@link ParametricLayers}: kron from the KFC factors ({@link ConvKfac}; conv
 * blocks in the kron order of {@code W~ = [W^T; b^T]}, permuted to the flat order), diag from the exact
 * GGN diagonal, full from the exact GGN ({@link ConvKfac#ggn}) or the Hessian ({@link FullHessian} on
 * the covered range). The predictive's {@code J P^-1 J^T} uses the dense per-input Jacobian of the
 * covered parameters ({@link ConvKfac#jacobian}) and one solve ({@link PosteriorPrecision#functionalCovariance(INDArray, double, double[])}).
 */
final class ModuleLaplace {
    private ModuleLaplace() {
    }

    static Laplace fit(Sequential model, Loss loss, Dataset data, INDArray theta, Laplace.Options o, ProgressListener progress) throws IOException {
        ParametricLayers layers = ParametricLayers.of(model);
        int first = o.subset().firstLayer(layers.count());
        int covered = layers.count() - first;
        if (o.priorPrecision().length != 1 && o.priorPrecision().length != covered) {
            throw new IllegalArgumentException("prior precision needs one value or one per covered layer (" + covered + "), got "
                    + o.priorPrecision().length);
        }
        long[] sizes = new long[covered];
        long[] widths = new long[covered];
        for (int l = first; l < layers.count(); l++) {
            sizes[l - first] = layers.get(l).size();
            widths[l - first] = layers.get(l).cols();
        }
        long from = layers.get(first).offset();
        long n = model.parameterCount() - from;
        PosteriorPrecision p = switch (o.structure()) {
            case FULL -> {
                Laplace.preflight(n, o.budget());
                INDArray c = o.curvature() == CurvatureType.GGN ? ConvKfac.ggn(model, loss, data, theta, first, progress)
                        : FullHessian.compute(new HessianOperator(model, loss, data, theta, 0),
                                FullHessian.Options.defaults().withBudget(o.budget()).withProgress(progress).withParameters(from, model.parameterCount())).matrix();
                yield new FullPrecision(c, sizes);
            }
            case KRON -> {
                KfacFactors f = ConvKfac.compute(model, loss, data, theta, Kfac.Options.exact(), first, progress);
                yield new KronPrecision(f.a(), f.g(), layers.transposedWeights(first));
            }
            case DIAG -> {
                DiagonalKind kind = o.curvature() == CurvatureType.GGN ? DiagonalKind.GGN : DiagonalKind.HESSIAN;
                INDArray d = ConvKfac.diagonal(kind, model, loss, data, theta, 1, 0, progress);
                yield new DiagPrecision(d.get(NDArrayIndex.interval(from, model.parameterCount())).dup('c'), sizes, widths);
            }
        };
        return new Laplace(model, theta, Laplace.likelihood(model, loss, data, theta), p, o.subset(), o.curvature(), o.priorPrecision(),
                o.sigma());
    }

    /**
     * {@code {f(x) [S, out], J P^-1 J^T [S, out, out]}} at inputs x. kron: the Jacobian of each layer
     * directly in its eigenbasis ({@link ConvKfac#jacobianInBases}), divided by the eigenvalues; other
     * structures: the dense Jacobian and one solve.
     */
    static INDArray[] predictive(Laplace laplace, INDArray x) {
        if (laplace.precision() instanceof KronPrecision kron) {
            java.util.List<INDArray[]> bases = new java.util.ArrayList<>();
            for (int l = 0; l < kron.blocks(); l++) {
                bases.add(kron.bases(l));
            }
            INDArray[] f = new INDArray[1];
            java.util.List<double[]> jq = ConvKfac.jacobianInBases(laplace.model(), laplace.parameters(), x, laplace.firstLayer(), bases, f);
            INDArray cov = kron.covarianceInBases(jq, (int) x.size(0), laplace.model().outputSize(), laplace.curvatureScale(),
                    laplace.priorPrecision());
            return new INDArray[] {f[0], cov};
        }
        INDArray[] jf = ConvKfac.jacobian(laplace.model(), laplace.parameters(), x, laplace.firstLayer());
        INDArray cov = laplace.precision().functionalCovariance(jf[0], laplace.curvatureScale(), laplace.priorPrecision());
        jf[0].close();
        return new INDArray[] {jf[1], cov};
    }
}
