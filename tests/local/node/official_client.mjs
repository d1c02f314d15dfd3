// Drives Civitai's official TypeScript client (@civitai/client) against serve-local.
// Usage: node official_client.mjs BASE_URL TOKEN; prints one JSON object: step -> result.
import { createCivitaiClient } from '@civitai/client';
import * as api from '@civitai/client';

const [baseUrl, token] = process.argv.slice(2);
const client = createCivitaiClient({ baseUrl, auth: token });
const report = {};
const status = async (name, call) => {
  const { response, data } = await call;
  report[name] = response.status;
  return data;
};
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(64, 7)]);

const submitted = await status('SubmitWorkflow', api.submitWorkflow({
  client,
  body: { currencies: [], tags: ['a'], steps: [{ $type: 'echo', input: { message: 'hi' } }] },
}));
const workflowId = submitted.id;
const path = { workflowId };
await status('UpdateWorkflow', api.updateWorkflow({ client, path, body: { metadata: { k: 'v' }, tags: ['a', 'b'] } }));
await status('UpdateWorkflow wrong type', api.updateWorkflow({ client, path, body: { allowMatureContent: 'yes' } }));
await status('PatchWorkflow', api.patchWorkflow({ client, path, body: [{ op: 'add', path: '/tags/-', value: 'ts' }] }));
report.tagsAfterPatch = (await api.getWorkflow({ client, path })).data.tags;
const stepPath = { workflowId, stepName: '$0' };
await status('UpdateWorkflowStep', api.updateWorkflowStep({ client, path: stepPath, body: { metadata: { s: 1 } } }));
await status('PatchWorkflowStep', api.patchWorkflowStep({ client, path: stepPath, body: [{ op: 'add', path: '/metadata/t', value: 2 }] }));
report.stepMetadata = (await api.getWorkflowStep({ client, path: stepPath })).data.metadata;
await status('RemoveAllWorkflowTags', api.removeAllWorkflowTags({ client, path }));
report.tagsAfterClear = (await api.getWorkflow({ client, path })).data.tags;

await status('GetConsumerBlobUploadUrl', api.getConsumerBlobUploadUrl({ client }));
const blob = await status('UploadConsumerBlob', api.uploadConsumerBlob({
  client, body: png, bodySerializer: null, headers: { 'Content-Type': 'image/png' },
}));
const blobPath = { blobId: blob.id };
await status('HeadBlob', api.headBlob({ client, path: blobPath }));
await status('RefreshBlob', api.refreshBlob({ client, path: blobPath }));
await status('GetStreamingBlob', api.getStreamingBlob({ client, path: { blobKey: blob.id }, parseAs: 'arrayBuffer' }));
const redirect = await fetch(`${baseUrl}/v2/consumer/blobs/${blob.id}`, {
  headers: { Authorization: `Bearer ${token}` }, redirect: 'manual',
});
const encryptedToken = redirect.headers.get('location').split('/').pop();
const content = await status('GetBlobContent', api.getBlobContent({ client, path: { encryptedToken }, parseAs: 'arrayBuffer' }));
report.contentMatches = Buffer.from(content).equals(png);
await status('GetBlockedContent', api.getBlockedContent({ client, path: { encryptedToken }, parseAs: 'arrayBuffer' }));
await status('GetBlobArchive', api.getBlobArchive({ client, path: { encryptedToken }, parseAs: 'arrayBuffer' }));
await status('GetResource', api.getResource({ client, path: { air: 'urn:air:sdxl:checkpoint:civitai:101055@128078' } }));
await status('InvalidateUserCache', api.invalidateUserCache({ client, path: { userId: 1 } }));
await status('InvalidateUserTokens', api.invalidateUserTokens({ client, path: { userId: 1 } }));
report.echo = await status('InvokeEchoStepTemplate', api.invokeEchoStepTemplate({ client, body: { message: 'hey' } }));
await status('DeleteWorkflow', api.deleteWorkflow({ client, path }));
await status('GetWorkflow after delete', api.getWorkflow({ client, path }));
console.log(JSON.stringify(report));
