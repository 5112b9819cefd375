# Independent reference for SafePub's sampling probability beta and class size k
# (Li, Qardaji and Su 2012; Bild, Kuhn and Prasser 2018): binomial tails summed
# exactly (math.comb) in 60-digit decimal arithmetic, standard library only.
# Pinned in src/safepub/parameters.rs (REFERENCE). Run:
#   python3 tests/reference/safepub_k.py 0.4,0.5,0.9,1,1.9,2 1e-4,1e-5,1e-6
# Each line: epsilon delta beta k d(k).
from decimal import Decimal as D, getcontext
import math, sys
getcontext().prec = 60
def params(eps, delta):
    eps = D(eps); delta = D(delta)
    beta = 1 - (-eps).exp()
    gamma = ((eps).exp() - 1 + beta) / (eps).exp()
    Dkl = gamma * (gamma / beta).ln() - (gamma - beta)
    acache = {}
    def a(n):
        if n in acache: return acache[n]
        lo = int((n * gamma).to_integral_value(rounding='ROUND_FLOOR')) + 1
        s = D(0)
        # binomial pmf exactly via integer binomials
        for j in range(lo, n + 1):
            s += D(math.comb(n, j)) * beta**j * (1 - beta)**(n - j)
        acache[n] = s
        return s
    def c(n):
        return (-(D(n) * Dkl)).exp()
    def d(k):
        nm = int((D(k) / gamma - 1).to_integral_value(rounding='ROUND_CEILING'))
        best = D(-1); n = nm
        while True:
            best = max(best, a(n)); bound = c(n)
            if best >= bound: return best
            n += 1
    k = 1
    while True:
        dk = d(k)
        if dk < delta: return float(beta), k, float(dk)
        k += 1
for eps in sys.argv[1].split(','):
    for delta in sys.argv[2].split(','):
        print(eps, delta, *params(eps, delta))
