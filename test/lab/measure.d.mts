import type { Garp, Sample } from "./lab.mjs";

export interface Answer {
  t: number;
  who?: string;
  error?: string;
}
export function splitSamples(samples: Sample[]): Sample[];
export function twoHolderSeconds(samples: Sample[]): number;
export function claims(samples: Sample[]): { t: number; node: string }[];
export function claimsWithoutGarp(samples: Sample[], garps: Garp[], from?: number): { t: number; node: string }[];
export function failoverMs(samples: Sample[], t0: number, node: string): number | null;
export function outageMs(answers: Answer[], from: number, to: number): number;
export function longestGap(answers: Answer[], from: number, to: number): { ms: number; from: number; to: number };
export function lostInARow(answers: Answer[], from: number, to: number): number;
export function whoAnswered(answers: Answer[], from: number, to: number): string[];
export function median(values: number[]): number;
export function reachedMs(samples: Sample[], t0: number, node: string): number | null;
