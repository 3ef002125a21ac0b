// The policy pack: `pulumi preview --policy-pack policy` fails when a stack breaks one of these rules.
import { PolicyPack } from "@pulumi/policy";
import { pipelinePolicies } from "./rules";

new PolicyPack("cdc-pipeline", { policies: pipelinePolicies });
