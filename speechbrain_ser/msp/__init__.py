"""MSP-Podcast: what the challenge papers do after prediction, one module per job.

* ``scoring``: stage 4's scoring of ``predictions_<set>.csv`` (macro/micro/weighted
  F1, accuracy, UAR on the 8 classes, argmax and with dev-tuned thresholds; CCC
  per attribute) → ``msp_metrics.csv``;
* ``postprocess``: CONILIUM's per-class thresholds (log-probability offsets tuned
  on Development for macro-F1, applied unchanged to the test sets);
* ``submissions``: the challenge files ``submission_categorical_<set>.csv``
  (``FileName,EmoClass``) and ``submission_attributes_<set>.csv``
  (``FileName,EmoAct,EmoVal,EmoDom``), Test3 included;
* ``analyses``: mean ± std over seeds, ensembles, easy/difficult utterances;
* ``report``: stage 5; ``__main__``: the command line
  (``python -m speechbrain_ser.msp report|seeds|ensemble|easy-difficult``).

Prediction itself is not here: stage 4 predicts through the exported model
(``speechbrain_ser.evaluate``), like every other user of the model.
"""
CLASSES = ["A", "S", "H", "U", "F", "D", "C", "N"]
SETS = ["dev", "test1", "test2", "test3"]
CAT = ["macro_f1", "micro_f1", "weighted_f1", "accuracy", "uar"]
