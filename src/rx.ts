/**
 * The parts of rxjs the service uses, each from its own module: the service's code takes rxjs from
 * here, never from 'rxjs' itself (`import type` excepted). rxjs's index loads all of its 220-odd
 * modules, operators, schedulers and ajax included; these load 78 of them, about 1 MB less RSS on Node 24
 * (README, Footprint). They are the index's own files, so what tests import from 'rxjs' (TestScheduler
 * included) is the same code.
 */
export { BehaviorSubject } from 'rxjs/internal/BehaviorSubject';
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { Subscription } from 'rxjs/internal/Subscription';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { defer } from 'rxjs/internal/observable/defer';
export { from } from 'rxjs/internal/observable/from';
export { merge } from 'rxjs/internal/observable/merge';
export { of } from 'rxjs/internal/observable/of';
export { throwError } from 'rxjs/internal/observable/throwError';
export { timer } from 'rxjs/internal/observable/timer';
export { catchError } from 'rxjs/internal/operators/catchError';
export { concatMap } from 'rxjs/internal/operators/concatMap';
export { distinctUntilChanged } from 'rxjs/internal/operators/distinctUntilChanged';
export { exhaustMap } from 'rxjs/internal/operators/exhaustMap';
export { finalize } from 'rxjs/internal/operators/finalize';
export { first } from 'rxjs/internal/operators/first';
export { map } from 'rxjs/internal/operators/map';
export { share } from 'rxjs/internal/operators/share';
export { startWith } from 'rxjs/internal/operators/startWith';
export { switchMap } from 'rxjs/internal/operators/switchMap';
export { timeout } from 'rxjs/internal/operators/timeout';
