"""Train the encoder head of the document classifier on the TRAIN split only.

    python -m creditflow.nlp.train_doctype_head   # writes models/nlp/doctype_head.json

Why logistic regression on frozen MiniLM embeddings: ~200 labelled documents are far too
few to fine-tune a transformer, but plenty for a linear head; the result is 9x384 numbers
stored as JSON (readable, diffable, no pickle), and the dev split reports how it does.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from creditflow.nlp.encoder import get_encoder
from creditflow.nlp.evaluate_documents import load_split
from creditflow.nlp.resources import nlp_dir


def main() -> int:
    from sklearn.linear_model import LogisticRegression

    train, dev = load_split("train"), load_split("dev")
    enc = get_encoder()
    x_tr = enc.encode([d["text"] for d in train])
    y_tr = [d["doc_type"] for d in train]
    clf = LogisticRegression(C=4.0, max_iter=2000)
    clf.fit(x_tr, y_tr)
    x_dev = enc.encode([d["text"] for d in dev])
    acc = float(np.mean(clf.predict(x_dev) == np.array([d["doc_type"] for d in dev])))
    out = {"classes": list(clf.classes_), "coef": np.round(clf.coef_, 6).tolist(),
           "intercept": np.round(clf.intercept_, 6).tolist(), "encoder": "all-MiniLM-L6-v2 mean-pooled, L2-normalised",
           "trained_on": "models/nlp/eval/documents_train.jsonl", "n_train": len(train), "dev_accuracy": round(acc, 4)}
    path = nlp_dir() / "doctype_head.json"
    path.write_text(json.dumps(out) + "\n", encoding="utf-8")
    print(f"wrote {path} (train {len(train)}, dev accuracy alone {acc:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
