package dev.curvlab.bench;

import dev.curvlab.curvature.hessian.FullHessian;
import dev.curvlab.curvature.hessian.HessianMethod;
import dev.curvlab.curvature.operator.ObservedFisherOperator;
import dev.curvlab.nn.loss.Losses;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The observed Fisher information {@code [51, 51]} of logistic regression (one dense layer 50-1,
 * identity, bce on logits; d = 50 plus the bias, n = 100,000, the anchor's data model) at the true
 * weights: {@code FullHessian.compute(new ObservedFisherOperator(model, BCE, data, theta, 0), options)}
 * by the structured and the blocked method. Setup checks once that the result equals the closed
 * form {@code X1^T diag(p (1 - p)) X1} ({@code X1 = [X, 1]}).
 *
 * <p>PyTorch: {@code -torch.autograd.functional.hessian(logL, w, vectorize=True)} (weights only,
 * 50 x 50), 0.33 s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0", "-Xmx8g",
        "-Dcurvlab.log.level=WARN"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class FisherBench {
    /** Largest accepted max |I - I_closed| / max |I_closed|. */
    static final double TOLERANCE = 1e-10;

    @Param({"structured", "blocked"})
    public String method;

    private ObservedFisherOperator operator;
    private FullHessian.Options options;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        Problems.LogisticRegression p = Problems.LogisticRegression.of(50, 100_000);
        operator = new ObservedFisherOperator(p.model(), Losses.BCE, p.data(), p.theta(), 0);
        options = FullHessian.Options.defaults().withMethod(HessianMethod.parse(method));
        double err = relativeError(FullHessian.compute(operator, options).matrix(), p.closedFormFisher());
        if (!(err <= TOLERANCE)) {
            throw new IllegalStateException("observed Fisher by " + method + " differs from X^T diag(p(1-p)) X: relative error " + err);
        }
    }

    /** {@code max |a - b| / max |b|}. */
    static double relativeError(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / b.amaxNumber().doubleValue();
    }

    /** The observed Fisher information matrix. */
    @Benchmark
    public void observedFisher(Blackhole bh) throws IOException {
        FullHessianBench.consume(FullHessian.compute(operator, options), bh);
    }
}
