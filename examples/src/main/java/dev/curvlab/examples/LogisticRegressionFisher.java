package dev.curvlab.examples;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.inference.FisherInference;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.nn.ModelObjective;
import dev.curvlab.nn.data.Dataset;
import dev.curvlab.nn.data.Datasets;
import dev.curvlab.nn.loss.Losses;
import dev.curvlab.nn.loss.Reduction;
import dev.curvlab.nn.model.Activation;
import dev.curvlab.nn.model.Sequential;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Logistic regression fitted by Newton's method with exact Hessians, then its observed Fisher
 * information {@code I = -d2 log L} at the estimate gives the covariance {@code I^-1} and the
 * standard errors, printed as a coefficient table (estimate, standard error, z, p-value) as a
 * statistics package would. Data: Iris, "virginica" against the other two species, on the four
 * measurements in centimetres (real data, shipped with deeplearning4j-core).
 *
 * <p>Newton step: {@code theta <- theta - I(theta)^-1 grad NLL(theta)}; for this model
 * {@code I = X~^T diag(p (1 - p)) X~} (checked against curvlab's structured Hessian at the end).
 *
 * <p>Run: {@code java -cp examples/target/curvlab-examples.jar dev.curvlab.examples.LogisticRegressionFisher}
 */
public final class LogisticRegressionFisher {
    private LogisticRegressionFisher() {
    }

    public static void main(String[] args) throws Exception {
        Launch.configure();
        Dataset iris = Datasets.iris();
        INDArray y = iris.y().eq(2.0).castTo(DataType.DOUBLE).reshape(iris.n(), 1);
        Dataset data = new Dataset(iris.x(), y);
        Sequential model = Sequential.builder(4).dense(1, Activation.IDENTITY).build();   // theta = [w (4), b]
        ModelObjective nll = new ModelObjective(model, Losses.BCE, data, Reduction.NLL);
        INDArray theta = Nd4j.zeros(DataType.DOUBLE, model.parameterCount());
        int it = 0;
        double step = Double.POSITIVE_INFINITY;
        INDArray fisher = null;
        while (it < 50 && step > 1e-10) {
            INDArray grad = nll.gradient(theta);
            fisher = FullHessian.compute(new ObservedFisherOperator(model, Losses.BCE, data, theta, 0),
                    FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)).matrix();
            INDArray delta = org.nd4j.linalg.inverse.InvertMatrix.invert(fisher, false).mmul(grad.reshape(grad.length(), 1)).reshape(grad.length());
            theta.subi(delta);
            step = delta.norm2Number().doubleValue() / Math.max(1, theta.norm2Number().doubleValue());
            it++;
            System.out.printf("Newton %2d: -log L = %.10f, |step| = %.2e%n", it, nll.value(theta), step);
        }
        fisher = FullHessian.compute(new ObservedFisherOperator(model, Losses.BCE, data, theta, 0),
                FullHessian.Options.defaults().withMethod(HessianMethod.STRUCTURED)).matrix();
        FisherInference.Covariance cov = FisherInference.covariance(fisher, FisherInference.SingularPolicy.ERROR);
        List<FisherInference.Coefficient> table = FisherInference.coefficients(theta, cov.standardErrors(),
                List.of("sepal_length", "sepal_width", "petal_length", "petal_width", "intercept"));
        System.out.printf("%nLogistic regression, Iris: virginica vs rest, n = %d, converged in %d Newton steps%n", data.n(), it);
        System.out.printf("log-likelihood %.6f%n%n", -nll.value(theta));
        System.out.printf("%-14s %12s %12s %9s %10s%n", "", "estimate", "std. error", "z", "P>|z|");
        for (FisherInference.Coefficient c : table) {
            System.out.printf("%-14s %12.5f %12.5f %9.3f %10.4g%n", c.name(), c.estimate(), c.standardError(), c.z(), c.pValue());
        }
        // check: the observed information of logistic regression is X~^T diag(p(1-p)) X~
        INDArray xa = Nd4j.hstack(data.x(), Nd4j.ones(DataType.DOUBLE, data.n(), 1));
        INDArray p = Transforms.sigmoid(xa.mmul(theta.reshape(5, 1)), true);
        INDArray closed = xa.transpose().mmul(xa.mulColumnVector(p.mul(p.rsub(1.0))));
        System.out.printf("%nmax |I - X~^T W X~| / max |I| = %.2e%n", Transforms.abs(fisher.sub(closed), false).maxNumber().doubleValue()
                / Transforms.abs(closed, true).maxNumber().doubleValue());
    }
}
